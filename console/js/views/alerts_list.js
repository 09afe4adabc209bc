// The alert list of the duty desk, virtualised: only the rows in view (plus a margin)
// are in the DOM, placed by their offset, so 10,000 alerts scroll like 20. One focusable
// listbox; the selected row is its aria-activedescendant.
import { h } from '../dom.js';
import { LEVEL_TEXT, KIND_TEXT } from '../labels.js';
import { clocks, stateText, topicOf, unitOf } from '../alert_model.js';
import { formatDuration, formatShort } from '../time.js';

const GROUP_H = 32;
const ROW_H = 64;
const MARGIN = 8;  // rows rendered beyond each edge

export const rowId = (id) => `alert-row-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;

export function clockCell(a, now) {
  const c = clocks(a)[0];
  if (!c) return h('span', { class: 'clock' }, a.state === 'closed' ? '已办结' : '');
  const left = c.due - now;
  const cls = left < 0 ? 'clock late' : left < 15 * 60000 ? 'clock soon' : 'clock';
  return h('span', { class: cls, title: c.label }, `${c.label} ${formatDuration(left)}`);
}

export class AlertList {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.rows = [];
    this.offsets = [0];
    this.selected = '';
    this.spacer = h('div', { class: 'list-spacer' });
    this.el = h('div', { class: 'list', role: 'listbox', tabindex: '0', 'aria-label': '预警列表（j/k 上下，a 签收，h 处置）' }, this.spacer);
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.el.addEventListener('click', (ev) => {
      const row = ev.target.closest('[data-id]');
      if (row) this.onSelect(row.dataset.id);
    });
    this.frame = 0;
    this.nodes = new Map();  // key (alert id, or g:group) -> {node, sig, sel}
  }

  // rows: [{group: {title, count, key}} | {alert}]; select() or render() draws them.
  setRows(rows) {
    this.rows = rows;
    this.offsets = new Array(rows.length + 1);
    this.offsets[0] = 0;
    for (let i = 0; i < rows.length; i++) this.offsets[i + 1] = this.offsets[i] + (rows[i].group ? GROUP_H : ROW_H);
    this.spacer.style.height = `${this.offsets[rows.length]}px`;
  }

  alertIds() { return this.rows.filter((r) => r.alert).map((r) => r.alert.id); }

  select(id, { scroll = true } = {}) {
    this.selected = id;
    const i = this.rows.findIndex((r) => r.alert && r.alert.id === id);
    if (scroll && i >= 0) {
      const top = this.offsets[i];
      const bottom = this.offsets[i + 1];
      if (top < this.el.scrollTop) this.el.scrollTop = top - GROUP_H;
      else if (bottom > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = bottom - this.el.clientHeight;
    }
    this.render();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  // First row whose bottom is below y (binary search on the offsets).
  indexAt(y) {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // Places the rows in view. A row's node is kept while its alert (the same object: the
  // store replaces an alert on every change) and its selection stay; only its clock is
  // redrawn, so nodes (focus, references) survive the clock's tick.
  render(now = Date.now()) {
    const top = this.el.scrollTop;
    const from = Math.max(0, this.indexAt(top) - MARGIN);
    const to = Math.min(this.rows.length, this.indexAt(top + (this.el.clientHeight || 800)) + MARGIN + 1);
    const keep = new Map();
    for (let i = from; i < to; i++) {
      const row = this.rows[i];
      const key = row.group ? `g:${row.group.title}` : row.alert.id;
      const sig = row.group ? `${row.group.count}` : row.alert;
      const sel = !!row.alert && row.alert.id === this.selected;
      let entry = this.nodes.get(key);
      if (!entry || entry.sig !== sig || entry.sel !== sel) entry = { node: this.rowNode(row, now), sig, sel };
      else if (row.alert) entry.node.querySelector('.clock').replaceWith(clockCell(row.alert, now));
      entry.node.style.top = `${this.offsets[i]}px`;
      keep.set(key, entry);
    }
    for (const [key, e] of this.nodes) if (!keep.has(key) || keep.get(key).node !== e.node) e.node.remove();
    for (const e of keep.values()) if (e.node.parentNode !== this.spacer) this.spacer.append(e.node);
    this.nodes = keep;
    if (keep.has(this.selected)) this.el.setAttribute('aria-activedescendant', rowId(this.selected));
    else this.el.removeAttribute('aria-activedescendant');
    this.el.dataset.rendered = String(to - from);
  }

  rowNode(row, now) {
    let node;
    if (row.group) {
      node = h('div', { class: `row group${row.group.level ? ` stripe-${row.group.level}` : ''}`, role: 'presentation' },
        row.group.title, h('span', { class: 'muted' }, `${row.group.count} 条`));
    } else {
      const a = row.alert;
      const label = `${LEVEL_TEXT[a.level] || a.level}预警 ${stateText(a)}：${a.summary || topicOf(a)}`;
      node = h('div', {
        id: rowId(a.id), class: `row stripe-${a.level} state-${a.state}${a.id === this.selected ? ' selected' : ''}`,
        role: 'option', 'aria-selected': a.id === this.selected ? 'true' : 'false', 'aria-label': label,
        dataset: { id: a.id },
      },
      h('span', { class: `level level-${a.level}` }, LEVEL_TEXT[a.level] || a.level),
      h('span', { class: 'summary' }, a.summary || topicOf(a)),
      clockCell(a, now),
      h('span', { class: 'meta' }, [stateText(a), KIND_TEXT[a.kind] || a.kind, topicOf(a), unitOf(a),
        `触发 ${formatShort(a.fired_ms, now)}`, `${a.count || 0} 条`].join(' · ')));
    }
    return node;
  }
}
