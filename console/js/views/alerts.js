// 值班台: the duty officer's alert desk. Live from the alert event stream (a snapshot,
// then every change; reconnects by itself), grouped by level, topic or unit, filtered and
// searched (all in the URL), the response clocks counting down, a beep for new orange and
// red alerts, and a keyboard path: j/k to move, a to acknowledge, h to handle, / to search.
import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { LEVELS, LEVEL_TEXT, STATE_TEXT } from '../labels.js';
import { AlertStore, group, warmSearch } from '../alert_model.js';
import { beep, setSound, soundOn } from '../sound.js';
import { openStream } from '../stream.js';
import { AlertList } from './alerts_list.js';
import { DetailPanel, clockLine } from './alerts_detail.js';

const CONN_TEXT = { connecting: '正在连接…', open: '实时', closed: '连接中断，正在重连…', unauthorized: '未授权' };

function select(id, label, options, value) {
  return h('label', { for: id }, label, h('select', { id }, options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
}

function filterBar(f, by) {
  return h('div', { class: 'filters', role: 'search' },
    h('label', { for: 'f-q' }, '搜索', h('input', { id: 'f-q', type: 'search', value: f.q, placeholder: '关键词、单位、编号 (/)', 'aria-keyshortcuts': '/' })),
    select('f-level', '级别', [['', '全部'], ...LEVELS.map((l) => [l, LEVEL_TEXT[l]])], f.level),
    select('f-state', '状态', [['', '未办结'], ...Object.entries(STATE_TEXT), ['all', '全部']], f.state),
    select('f-topic', '专题', [['', '全部']], f.topic),
    select('f-unit', '单位', [['', '全部']], f.unit),
    select('f-by', '分组', [['level', '按级别'], ['topic', '按专题'], ['unit', '按牵头单位']], by),
    h('label', { for: 'f-sound' }, h('input', { id: 'f-sound', type: 'checkbox', checked: soundOn() }), '橙/红色预警提示音'));
}

// Options of a select from the values in the alerts (sorted, distinct), keeping the chosen one.
function fillOptions(sel, values, chosen) {
  const want = ['', ...values];
  const have = [...sel.options].map((o) => o.value);
  if (want.join('\n') === have.join('\n')) return;
  replace(sel, want.map((v) => h('option', { value: v, selected: v === chosen }, v || '全部')));
  sel.value = chosen;
}

export function mount(root, ctx) {
  const p = ctx.params;
  const f = { q: p.get('q') || '', level: p.get('level') || '', state: p.get('state') || '', topic: p.get('topic') || '', unit: p.get('unit') || '' };
  let by = p.get('by') || 'level';
  let selected = p.get('id') || '';
  const store = new AlertStore();
  const bar = filterBar(f, by);
  const counts = h('div', { class: 'counts', 'aria-live': 'polite' });
  const list = new AlertList({ onSelect: (id) => choose(id) });
  const detail = h('section', { class: 'detail', 'aria-label': '预警详情', tabindex: '-1' }, h('p', { class: 'muted' }, '正在加载预警…'));
  const keys = h('div', { class: 'keys' }, '键盘：', h('kbd', {}, 'j'), '/', h('kbd', {}, 'k'), ' 上下 ',
    h('kbd', {}, 'a'), ' 签收 ', h('kbd', {}, 'h'), ' 处置 ', h('kbd', {}, '/'), ' 搜索');
  replace(root, h('div', { class: 'alerts' }, h('div', { class: 'alerts-side' }, bar, counts, list.el, keys), detail));
  const panel = new DetailPanel(detail, ctx.session, (action, body) => act(action, body));
  const showDetail = () => panel.show(store.get(selected), store.byId.size);
  let optionsOf = -1;  // the store version the topic and unit options were filled from

  function syncUrl() { ctx.setParams({ ...f, by: by === 'level' ? '' : by, id: selected }); }

  function refresh() {
    const t0 = performance.now();
    const ix = store.index();
    if (ix.version !== optionsOf) {
      fillOptions(bar.querySelector('#f-topic'), ix.topics, f.topic);
      fillOptions(bar.querySelector('#f-unit'), ix.units, f.unit);
      optionsOf = ix.version;
    }
    const shown = store.view(f);
    list.setGroups(group(shown, by).map((g) => ({ title: g.title, count: g.alerts.length, level: by === 'level' ? g.key : '', alerts: g.alerts })));
    list.select(selected, { scroll: false });
    const per = { red: 0, orange: 0, yellow: 0, blue: 0 };
    for (const a of shown) per[a.level] = (per[a.level] || 0) + 1;
    replace(counts, h('span', {}, `共 ${shown.length} 条`), LEVELS.map((l) => h('span', { class: `level level-${l}` }, `${LEVEL_TEXT[l]} ${per[l]}`)));
    list.el.dataset.count = String(shown.length);
    list.el.dataset.filterMs = (performance.now() - t0).toFixed(1);
    showDetail();
  }

  function choose(id) {
    selected = id;
    list.select(id);
    syncUrl();
    showDetail();
  }

  async function act(action, body) {
    const a = store.get(selected);
    if (!a) return;
    if (action === 'handle' && !body.note) {
      panel.askNote('handle');
      toast('请输入处置说明，按 Enter 提交');
      return;
    }
    try {
      store.upsert(await api.post(`/api/v1/alerts/${encodeURIComponent(a.id)}/${action}`, body));
      panel.done();
      toast(action === 'ack' ? '已签收' : '已处置');
      refresh();
      list.el.focus();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  return wire({ root, f, bar, list, store, refresh, choose, act, setBy: (v) => { by = v; }, syncUrl });
}

// Filters, the stream, the clock tick and the keys; returns the cleanup.
function wire({ root, f, bar, list, store, refresh, choose, act, setBy, syncUrl }) {
  let scheduled = 0;
  const soon = () => { if (!scheduled) scheduled = requestAnimationFrame(() => { scheduled = 0; refresh(); }); };
  bar.addEventListener('input', (ev) => {
    const id = ev.target.id;
    if (id === 'f-sound') { setSound(ev.target.checked); return; }
    if (id === 'f-by') setBy(ev.target.value);
    else if (id.startsWith('f-')) f[id.slice(2)] = ev.target.value;
    syncUrl();
    soon();
  });
  let live = false;
  const conn = document.getElementById('conn');
  const stream = openStream('/api/v1/alerts/stream', {
    onState(s) { if (conn) { conn.textContent = CONN_TEXT[s] || s; conn.className = `conn ${s}`; } },
    onEvent(name, data) {
      const t0 = performance.now();
      const msg = JSON.parse(data);
      if (name === 'snapshot') {
        Object.assign(list.el.dataset, { snapshotBytes: String(data.length), snapshotParseMs: (performance.now() - t0).toFixed(1) });
      }
      if (name === 'snapshot') { store.replace(msg.alerts || []); warmSearch(store.all()); live = true; soon(); return; }
      if (name !== 'alert' || !msg.alert) return;
      const had = store.upsert(msg.alert);
      const fresh = msg.reason === 'fired' || msg.reason === 'fired_again' || (!had && msg.alert.state === 'open');
      if (live && fresh && (msg.alert.level === 'red' || msg.alert.level === 'orange')) beep(msg.alert.level);
      soon();
    },
  });
  if (f.state === 'closed' || f.state === 'all') {
    api.get('/api/v1/alerts', { state: 'closed', limit: 1000 }).then((r) => { for (const a of r.alerts) store.upsert(a); soon(); })
      .catch((e) => toast(e.message, 'error'));
  }
  const tick = setInterval(() => {
    list.render();
    const clocksEl = root.querySelector('.detail .clocks');
    const a = store.get(list.selected);
    if (clocksEl && a) clocksEl.replaceWith(clockLine(a));
  }, 1000);
  const onKey = (ev) => keys(ev, { list, choose, act, root });
  document.addEventListener('keydown', onKey);
  return () => {
    stream.close();
    clearInterval(tick);
    document.removeEventListener('keydown', onKey);
    if (conn) { conn.textContent = ''; conn.className = 'conn'; }
  };
}

function keys(ev, { list, choose, act, root }) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
  if (typing) {
    if (ev.key === 'Escape') { t.blur(); list.el.focus(); }
    return;
  }
  const ids = list.alertIds();
  const at = ids.indexOf(list.selected);
  if (ev.key === 'j' || ev.key === 'ArrowDown') {
    if (ids.length) choose(ids[Math.min(ids.length - 1, at + 1)]);
  } else if (ev.key === 'k' || ev.key === 'ArrowUp') {
    if (ids.length) choose(ids[Math.max(0, at < 0 ? 0 : at - 1)]);
  } else if (ev.key === 'a') {
    const b = root.querySelector('#alert-ack');
    if (b && !b.hidden) b.click();
  } else if (ev.key === 'h') {
    const b = root.querySelector('#alert-handle');
    if (b && !b.hidden) b.click();
  } else if (ev.key === '/') {
    root.querySelector('#f-q').focus();
  } else {
    return;
  }
  ev.preventDefault();
}
