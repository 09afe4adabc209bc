// Building the page from data without ever parsing it as HTML: every text goes in as a
// text node (textContent), never through innerHTML, so a message that reads
// "<img src=x onerror=...>" shows those characters and runs nothing.

// h('button', {class: 'x', type: 'button', onclick: fn, 'aria-label': '...'}, 'text', node)
// Attributes: "class", "text" (textContent), "dataset" (object), on* (listeners), hidden/
// disabled/checked/value (properties), anything else through setAttribute. "style" and
// "innerHTML" are refused: style goes through CSS classes or el.style.x from code.
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' || k === 'innerHTML' || k === 'outerHTML') throw new Error(`h(): ${k} is not allowed`);
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'value' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// Appends strings (as text), numbers, nodes and arrays of them; skips null/false.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces the children of el.
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

// Merges overlapping [begin, end) ranges, sorted.
function merged(ranges) {
  const sorted = ranges.filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin);
  const out = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ begin: r.begin, end: r.end });
  }
  return out;
}

// The text with every span wrapped in <mark>, as DOM nodes. Spans are
// {begin, end} in UTF-8 bytes of the text (what /api/v1/hits gives: "spans map back to
// the original bytes"); overlapping ones are joined; spans past the end are cut.
export function highlightBytes(text, spans) {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const s of merged(spans.map((x) => ({ begin: Math.min(x.begin, bytes.length), end: Math.min(x.end, bytes.length) })))) {
    if (s.begin > at) frag.append(document.createTextNode(decoder.decode(bytes.subarray(at, s.begin))));
    frag.append(h('mark', {}, decoder.decode(bytes.subarray(s.begin, s.end))));
    at = s.end;
  }
  if (at < bytes.length) frag.append(document.createTextNode(decoder.decode(bytes.subarray(at))));
  return frag;
}

// The same for spans in JavaScript string indices (UTF-16 code units).
export function highlightChars(text, spans) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const s of merged(spans)) {
    if (s.begin > at) frag.append(document.createTextNode(text.slice(at, s.begin)));
    frag.append(h('mark', {}, text.slice(s.begin, Math.min(s.end, text.length))));
    at = s.end;
  }
  if (at < text.length) frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

// An excerpt the daemon highlighted with 【 】 (alert examples): the marked parts in
// <mark> without the brackets.
export function highlightBracketed(text, open = '【', close = '】') {
  const spans = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const a = text.indexOf(open, i);
    const b = a < 0 ? -1 : text.indexOf(close, a + open.length);
    if (a < 0 || b < 0) { plain += text.slice(i); break; }
    plain += text.slice(i, a);
    const begin = plain.length;
    plain += text.slice(a + open.length, b);
    spans.push({ begin, end: plain.length });
    i = b + close.length;
  }
  return highlightChars(plain, spans);
}

// A short-lived message at the bottom of the page (role=alert).
let toastTimer = null;
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 6000);
}

// Saves `text` as a file named `name` (a CSV, Markdown or HTML download made in the page).
export function download(text, name, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
