// The alert list of the duty desk, virtualised: only the rows in view (plus a margin)
// are in the DOM, placed by their offset computed from their group's, so 10,000 alerts
// scroll and filter like 20. One focusable listbox; the selected row is its
// aria-activedescendant.
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
    this.groups = [];
    this.starts = [0];  // row number of each group's header (the last: the number of rows)
    this.tops = [0];    // offset of each group's header (the last: the height of the list)
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

  // groups: [{title, count, level, alerts}] in order, each a header row and its alerts'
  // rows. Nothing is made per alert here: a row's place is computed from its group's (so a
  // filter change over 10,000 alerts allocates no row objects); select() or render() draws.
  setGroups(groups) {
    this.groups = groups;
    this.starts = new Array(groups.length + 1);
    this.tops = new Array(groups.length + 1);
    this.starts[0] = 0;
    this.tops[0] = 0;
    groups.forEach((g, i) => {
      this.starts[i + 1] = this.starts[i] + 1 + g.alerts.length;
      this.tops[i + 1] = this.tops[i] + GROUP_H + g.alerts.length * ROW_H;
    });
    this.spacer.style.height = `${this.tops[groups.length]}px`;
  }

  get rowCount() { return this.starts[this.groups.length]; }

  // The group of row i (binary search on the headers' row numbers).
  groupOf(i) {
    let lo = 0;
    let hi = this.groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // Row i as {group} or {alert}, and its offset.
  row(i) {
    const g = this.groupOf(i);
    const k = i - this.starts[g] - 1;
    const grp = this.groups[g];
    if (k < 0) return { group: grp, top: this.tops[g] };
    return { alert: grp.alerts[k], top: this.tops[g] + GROUP_H + k * ROW_H };
  }

  alertIds() { return this.groups.flatMap((g) => g.alerts.map((a) => a.id)); }

  // The row number of the alert id (-1: not listed).
  rowOf(id) {
    for (let g = 0; g < this.groups.length; g++) {
      const k = this.groups[g].alerts.findIndex((a) => a.id === id);
      if (k >= 0) return this.starts[g] + 1 + k;
    }
    return -1;
  }

  select(id, { scroll = true } = {}) {
    this.selected = id;
    const i = scroll && id ? this.rowOf(id) : -1;
    if (i >= 0) {
      const top = this.row(i).top;
      const bottom = top + ROW_H;
      if (top < this.el.scrollTop) this.el.scrollTop = top - GROUP_H;
      else if (bottom > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = bottom - this.el.clientHeight;
    }
    this.render();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  // First row whose bottom is below y: the group by binary search, then arithmetic.
  indexAt(y) {
    const n = this.groups.length;
    if (!n || y >= this.tops[n]) return this.rowCount;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tops[mid] <= y) lo = mid; else hi = mid - 1;
    }
    const into = y - this.tops[lo];
    if (into < GROUP_H) return this.starts[lo];
    return this.starts[lo] + 1 + Math.min(this.groups[lo].alerts.length - 1, Math.floor((into - GROUP_H) / ROW_H));
  }

  // Places the rows in view. A row's node is kept while its alert (the same object: the
  // store replaces an alert on every change) and its selection stay; only its clock is
  // redrawn, so nodes (focus, references) survive the clock's tick.
  render(now = Date.now()) {
    const top = this.el.scrollTop;
    const from = Math.max(0, this.indexAt(top) - MARGIN);
    const to = Math.min(this.rowCount, this.indexAt(top + (this.el.clientHeight || 800)) + MARGIN + 1);
    const keep = new Map();
    for (let i = from; i < to; i++) {
      const row = this.row(i);
      const key = row.group ? `g:${row.group.title}` : row.alert.id;
      const sig = row.group ? `${row.group.count}` : row.alert;
      const sel = !!row.alert && row.alert.id === this.selected;
      let entry = this.nodes.get(key);
      if (!entry || entry.sig !== sig || entry.sel !== sel) entry = { node: this.rowNode(row, now), sig, sel };
      else if (row.alert) entry.node.querySelector('.clock').replaceWith(clockCell(row.alert, now));
      entry.node.style.top = `${row.top}px`;
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
