// 政府信箱 (plan item 11): the cases waiting for a reply by deadline, with a countdown
// (overdue and due soon first), or by responsible unit; a case's message, its reply and
// the reply time; the concentrated issues with their cluster members; the period report
// with its downloads. #/mailbox?tab=cases&state=waiting&unit=…&case=ID
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { formatDuration, formatTime, zoneName } from '../time.js';
import { issuesList, reportPanel } from './mailbox_report.js';
import { localInputToMs, messageView } from './hits.js';

const TABS = [['cases', '待办信件'], ['issues', '集中诉求'], ['report', '统计报告']];
const STATES = [['waiting', '未办结'], ['overdue', '已超期'], ['closed', '已办结'], ['all', '全部']];
const STATE_TEXT = { open: '办理中', overdue: '已超期', closed: '已办结', reply_only: '仅有答复' };
const SOON_MS = 24 * 3600000;

const deadlineOf = (c) => (c.deadline ? Date.parse(c.deadline) : Infinity);

// Waiting cases first by deadline (the most overdue first), then the closed ones, newest first.
export function byDeadline(cases) {
  const waiting = (c) => c.state === 'open' || c.state === 'overdue';
  return [...cases].sort((a, b) => (waiting(b) - waiting(a)) ||
    (waiting(a) ? deadlineOf(a) - deadlineOf(b) : Date.parse(b.received || 0) - Date.parse(a.received || 0)));
}

function clockCell(c, now) {
  if (c.state === 'closed') return h('td', { class: 'clock' }, c.on_time === false ? '超时答复' : '已答复');
  const left = deadlineOf(c) - now;
  if (!Number.isFinite(left)) return h('td', { class: 'clock' }, '—');
  return h('td', { class: `clock ${left < 0 ? 'late' : left < SOON_MS ? 'soon' : ''}`, dataset: { deadline: String(deadlineOf(c)) } },
    left < 0 ? formatDuration(left) : `剩 ${formatDuration(left)}`);
}

function caseRow(c, now, open) {
  return h('tr', { class: `case state-${c.state}`, tabindex: 0, onclick: () => open(c), onkeydown: (e) => { if (e.key === 'Enter') open(c); } },
    clockCell(c, now), h('td', {}, STATE_TEXT[c.state] || c.state), h('td', {}, c.title || c.excerpt.slice(0, 40) || c.id),
    h('td', {}, c.category || '—'), h('td', {}, (c.units || []).join('、') || '—'),
    h('td', { class: 'nowrap' }, formatTime(Date.parse(c.received))), h('td', { class: 'nowrap' }, formatTime(deadlineOf(c))));
}

function casesTable(rows) {
  return h('table', { class: 'grid cases' },
    h('thead', {}, h('tr', {}, ['剩余时间', '状态', '标题', '类别', '承办单位', '收件时间', '答复期限'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows));
}

// The cases grouped by unit, each group with its counts, by deadline inside.
function byUnit(cases, now, open) {
  const groups = new Map();
  for (const c of cases) for (const u of (c.units && c.units.length ? c.units : ['（未指定单位）'])) {
    if (!groups.has(u)) groups.set(u, []);
    groups.get(u).push(c);
  }
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0], 'zh')).map(([unit, list]) => h('section', { class: 'unit-group' },
    h('h3', {}, `${unit}：未办结 ${list.filter((c) => c.state === 'open' || c.state === 'overdue').length} 件，已超期 ${list.filter((c) => c.state === 'overdue').length} 件`),
    casesTable(byDeadline(list).map((c) => caseRow(c, now, open)))));
}

async function caseDetail(c) {
  const parts = [h('h3', {}, c.title || c.id),
    h('dl', {},
      h('dt', {}, '状态'), h('dd', {}, STATE_TEXT[c.state] || c.state),
      h('dt', {}, '类别'), h('dd', {}, c.category || '—'),
      h('dt', {}, '承办单位'), h('dd', {}, (c.units || []).join('、') || '—'),
      h('dt', {}, '收件时间'), h('dd', {}, formatTime(Date.parse(c.received))),
      h('dt', {}, '答复期限'), h('dd', {}, `${formatTime(deadlineOf(c))}（${c.deadline_rule || ''}）`),
      h('dt', {}, '答复'), h('dd', {}, c.reply ? `${c.reply.unit} 于 ${formatTime(Date.parse(c.reply.time))} 答复` +
        `${c.reply_hours !== undefined ? `，用时 ${c.reply_hours.toFixed(1)} 小时` : ''}${c.on_time === false ? '（超时）' : ''}` : '尚未答复'))];
  for (const [label, key, excerpt] of [['来信', c.message_key, c.excerpt], ['答复', c.reply && c.reply.message_key, c.reply && c.reply.excerpt]]) {
    if (!key) continue;
    try {
      parts.push(h('section', { class: 'case-message' }, h('h4', {}, label), await messageView(key)));
    } catch (e) {
      parts.push(h('section', { class: 'case-message' }, h('h4', {}, label), h('p', { class: 'message-text' }, excerpt || ''),
        h('p', { class: 'muted' }, `（全文不可用：${e.message}）`)));
    }
  }
  return parts;
}

export function mount(root, ctx) {
  let tab = ctx.params.get('tab') || 'cases';
  const state = { filter: ctx.params.get('state') || 'waiting', unit: ctx.params.get('unit') || '', group: ctx.params.get('group') || 'deadline' };
  const body = h('div', { class: 'tab-body' });
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  let cases = [];
  let timers = [];
  replace(root, h('div', { class: 'mailbox' }, h('h2', {}, '政府信箱 Mailbox'), tabs, body));

  function setTab(next) {
    tab = next;
    timers.forEach(clearInterval);
    timers = [];
    ctx.setParams({ tab, ...(tab === 'cases' ? { state: state.filter, unit: state.unit, group: state.group } : {}) });
    replace(tabs, TABS.map(([id, title]) => h('button', { type: 'button', role: 'tab', 'aria-selected': String(id === tab), class: id === tab ? 'active' : '', onclick: () => setTab(id) }, title)));
    if (tab === 'cases') casesTab();
    if (tab === 'issues') issuesTab();
    if (tab === 'report') reportTab();
  }

  async function casesTab() {
    const list = h('div', { class: 'cases-list' });
    const detail = h('div', { class: 'detail case-detail', 'aria-live': 'polite' });
    const open = async (c) => {
      ctx.setParams({ tab, state: state.filter, unit: state.unit, group: state.group, case: c.id });
      replace(detail, '读取中…');
      replace(detail, await caseDetail(c));
    };
    const controls = h('div', { class: 'filters' });
    replace(body, controls, h('div', { class: 'mailbox-split' }, list, detail));
    try {
      cases = (await api.get('/api/v1/cases', { limit: 100000 })).cases;
    } catch (e) {
      replace(list, h('p', { class: 'error' }, `无法读取信件：${e.message}`));
      return;
    }
    const render = () => {
      const now = Date.now();
      const shown = cases.filter((c) => (state.filter === 'all' || (state.filter === 'waiting' ? c.state === 'open' || c.state === 'overdue' : c.state === state.filter)) &&
        (!state.unit || (c.units || []).includes(state.unit) || (c.reply && c.reply.unit === state.unit)));
      replace(list, h('p', { class: 'muted' }, `${shown.length} 件；时间按 ${zoneName()} 显示`),
        state.group === 'unit' ? byUnit(shown, now, open) : casesTable(byDeadline(shown).map((c) => caseRow(c, now, open))));
    };
    const units = [...new Set(cases.flatMap((c) => c.units || []))].sort((a, b) => a.localeCompare(b, 'zh'));
    const select = (label, key, options) => h('label', {}, label, h('select', { 'aria-label': label, onchange: (e) => { state[key] = e.target.value; ctx.setParams({ tab, ...state }); render(); } },
      options.map(([v, t]) => h('option', { value: v, selected: v === state[key] }, t))));
    replace(controls, select('状态', 'filter', STATES), select('承办单位', 'unit', [['', '全部单位'], ...units.map((u) => [u, u])]),
      select('排列', 'group', [['deadline', '按期限'], ['unit', '按单位']]));
    render();
    timers.push(setInterval(() => {
      for (const td of list.querySelectorAll('td.clock[data-deadline]')) {
        const left = Number(td.dataset.deadline) - Date.now();
        td.textContent = left < 0 ? formatDuration(left) : `剩 ${formatDuration(left)}`;
        td.className = `clock ${left < 0 ? 'late' : left < SOON_MS ? 'soon' : ''}`;
      }
    }, 1000));
    const wanted = ctx.params.get('case');
    const c = wanted && cases.find((x) => x.id === wanted);
    if (c) open(c);
  }

  async function issuesTab() {
    replace(body, '读取中…');
    try {
      replace(body, h('p', { class: 'muted' }, '近 30 天收件中集中反映的问题（政府信箱）与同文多发（帖子、新闻）；展开可看成员消息。'),
        issuesList(await api.get('/api/v1/report', { from: '30d' })));
    } catch (e) {
      replace(body, h('p', { class: 'error' }, `无法读取：${e.message}`));
    }
  }

  function reportTab() {
    const from = h('input', { type: 'date', 'aria-label': '起始日期' });
    const to = h('input', { type: 'date', 'aria-label': '截止日期（含）' });
    const out = h('div');
    const show = () => {
      const period = from.value && to.value
        ? { from: String(localInputToMs(`${from.value}T00:00`)), to: String(localInputToMs(`${to.value}T00:00`) + 86400000), label: `${from.value}_${to.value}` }
        : { from: '30d', label: '近30天' };
      replace(out, reportPanel(period));
    };
    replace(body, h('div', { class: 'filters' }, h('label', {}, '从', from), h('label', {}, '到', to),
      h('button', { type: 'button', class: 'primary', onclick: show }, '生成报告'), h('span', { class: 'muted' }, '不选日期：近 30 天')), out);
    show();
  }

  setTab(tab);
  return () => timers.forEach(clearInterval);
}
