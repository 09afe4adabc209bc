// The set-file editor: a textarea with line numbers (no editor library), checked as you
// type through POST /api/v1/keyword-sets/check (the code of `yuqingctl check`), each error
// and warning shown at its line in the gutter and listed below with line and column.
import { h, replace } from '../dom.js';
import { sendSetText, untilCompiled } from './sets_http.js';

const CHECK_DELAY_MS = 400;

// The text of one diagnostic, Chinese first.
export function diagnosticText(d) {
  const where = d.line ? `第 ${d.line} 行${d.column ? `，第 ${d.column} 列` : ''}` : '整个文件';
  const kind = d.severity === 'warning' ? '警告' : '错误';
  return `${where}${d.rule ? `（规则 ${d.rule}）` : ''} ${kind}：${d.message}`;
}

// createEditor({text, readOnly, canCheck, onChecked}) -> {el, text(), setText(t), focusLine(n)}
// onChecked(result) gets each check's answer ({ok, errors, warnings, diagnostics, version}).
export function createEditor({ text = '', readOnly = false, canCheck = false, onChecked = () => {} }) {
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const area = h('textarea', {
    class: 'code', spellcheck: 'false', wrap: 'off', 'aria-label': '关键词集文件（YAML）',
    autocapitalize: 'off', autocomplete: 'off', readonly: readOnly || undefined,
  });
  area.value = text;
  const state = h('span', { class: 'check-state', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'diagnostics', 'aria-label': '校验结果' });
  let marks = new Map();  // line -> [diagnostics]
  let seq = 0;
  let timer = null;

  function paintGutter() {
    const n = area.value.split('\n').length;
    const rows = [];
    for (let i = 1; i <= n; i++) {
      const ds = marks.get(i) || [];
      const cls = ds.some((d) => d.severity !== 'warning') ? 'err' : ds.length ? 'warn' : '';
      rows.push(h('div', { class: cls, dataset: { line: String(i) }, title: ds.map(diagnosticText).join('\n') || undefined }, String(i)));
    }
    replace(gutter, rows);
    gutter.scrollTop = area.scrollTop;
  }

  function focusLine(line) {
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || '').length);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (line - 4) * lineHeight);
  }

  function show(result) {
    marks = new Map();
    for (const d of result.diagnostics || []) {
      if (!marks.has(d.line)) marks.set(d.line, []);
      marks.get(d.line).push(d);
    }
    paintGutter();
    replace(list, (result.diagnostics || []).map((d) => h('li', { class: d.severity === 'warning' ? 'warn' : 'err' },
      h('button', { type: 'button', class: 'link', onclick: () => focusLine(d.line || 1) }, diagnosticText(d)))));
    state.className = `check-state ${result.ok ? 'ok' : 'bad'}`;
    state.textContent = result.ok
      ? `✓ 校验通过${result.warnings ? `（${result.warnings} 个警告）` : ''}：${result.rules} 条规则，版本 ${result.version}`
      : `✗ ${result.errors} 个错误${result.warnings ? `，${result.warnings} 个警告` : ''}`;
  }

  async function check() {
    const mine = ++seq;
    state.className = 'check-state';
    state.textContent = '校验中…';
    try {
      const r = await untilCompiled(() => sendSetText('POST', '/api/v1/keyword-sets/check', area.value, { keep: [202] }));
      if (mine !== seq) return;  // the text changed meanwhile: a newer check answers
      if (r.status === 202) { state.textContent = '仍在编译，请稍候再试'; return; }
      show(r.body);
      onChecked(r.body);
    } catch (e) {
      if (mine === seq) { state.className = 'check-state bad'; state.textContent = `无法校验：${e.message}`; }
    }
  }

  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  area.addEventListener('input', () => {
    paintGutter();
    if (!canCheck) return;
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  });
  paintGutter();
  if (canCheck && text) timer = setTimeout(check, 0);

  const el = h('div', { class: 'editor' },
    h('div', { class: 'editor-frame' }, gutter, area),
    h('div', { class: 'editor-status' }, state),
    list);
  return {
    el,
    text: () => area.value,
    setText(t) { area.value = t; area.dispatchEvent(new Event('input')); },
    focusLine,
    show,
    check,
    stop() { clearTimeout(timer); seq++; },
  };
}
