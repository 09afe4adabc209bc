// 大屏: the command center's wall. Big type, no interaction: today's alerts per level and
// policy topic and how many wait for 签收, the newest alerts, the alerts per hour over the
// last 24 hours (an SVG drawn here, stacked by level), the overdue mailbox cases.
// Refreshes itself every 15 s; the clock ticks every second.
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { LEVELS, LEVEL_TEXT, STATE_TEXT } from '../labels.js';
import { topicOf } from '../alert_model.js';
import { dayStart, formatDuration, formatShort, formatTime, hourOf, zoneName } from '../time.js';

const HOUR = 3600000;

function tiles(today, active) {
  const waiting = active.filter((a) => a.state === 'open').length;
  const late = active.filter((a) => a.state === 'open' && a.respond_by_ms && a.respond_by_ms < Date.now()).length;
  return [h('div', { class: 'tiles' }, LEVELS.map((l) => h('div', { class: `tile ${l}` },
    h('div', {}, `${LEVEL_TEXT[l]}预警`), h('div', { class: 'n' }, String(today.filter((a) => a.level === l).length))))),
  h('p', { class: 'waiting' }, `今日共 ${today.length} 条 · 待签收 ${waiting} 条`,
    late ? h('span', { class: 'late' }, ` · 响应超时 ${late} 条`) : null)];
}

function topicTable(today) {
  const per = new Map();
  for (const a of today) per.set(topicOf(a), (per.get(topicOf(a)) || 0) + 1);
  const rows = [...per.entries()].sort((x, y) => y[1] - x[1]).slice(0, 8);
  if (!rows.length) return h('p', {}, '今日暂无预警');
  return h('table', {}, h('tbody', {}, rows.map(([t, n]) => h('tr', {}, h('td', {}, t), h('td', { class: 'n' }, String(n))))));
}

function newest(alerts, now) {
  const rows = [...alerts].sort((a, b) => b.fired_ms - a.fired_ms).slice(0, 8);
  if (!rows.length) return h('p', {}, '暂无预警');
  return h('ul', {}, rows.map((a) => h('li', {},
    h('span', { class: 'when' }, formatShort(a.fired_ms, now)),
    h('span', { class: `level level-${a.level}` }, LEVEL_TEXT[a.level] || a.level),
    h('span', { class: 'what' }, a.summary || topicOf(a)),
    h('span', { class: 'muted' }, STATE_TEXT[a.state] || a.state))));
}

// Alerts fired per hour over the 24 hours up to now, stacked by level, labelled every 3 hours.
export function trendSvg(alerts, now) {
  const W = 960, H = 300, left = 64, bottom = 40, top = 24;
  const start = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const counts = Array.from({ length: 24 }, () => ({ red: 0, orange: 0, yellow: 0, blue: 0 }));
  for (const a of alerts) {
    const i = Math.floor((a.fired_ms - start) / HOUR);
    if (i >= 0 && i < 24 && a.level in counts[i]) counts[i][a.level]++;
  }
  const totals = counts.map((c) => c.red + c.orange + c.yellow + c.blue);
  const max = Math.max(1, ...totals);
  const bw = (W - left) / 24;
  const scale = (n) => (n / max) * (H - bottom - top);
  const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `近24小时每小时预警数，最多 ${max} 条` });
  svg.append(h('svg:line', { class: 'axis', x1: left, y1: H - bottom, x2: W, y2: H - bottom }));
  svg.append(h('svg:text', { x: 4, y: top + 8 }, String(max)));
  svg.append(h('svg:text', { x: 4, y: H - bottom }, '0'));
  counts.forEach((c, i) => {
    const x = left + i * bw + 2;
    let y = H - bottom;
    for (const level of ['blue', 'yellow', 'orange', 'red']) {
      if (!c[level]) continue;
      const hgt = scale(c[level]);
      y -= hgt;
      svg.append(h('svg:rect', { class: `bar ${level}`, x, y, width: bw - 4, height: hgt },
        h('svg:title', {}, `${hourOf(start + i * HOUR)}时 ${LEVEL_TEXT[level]}：${c[level]} 条`)));
    }
    if (i % 3 === 0) svg.append(h('svg:text', { x, y: H - 8 }, `${hourOf(start + i * HOUR)}时`));
  });
  return svg;
}

function overdueTable(cases, now) {
  if (!cases.length) return h('p', {}, '无超期信件');
  return h('table', {}, h('tbody', {}, cases.slice(0, 4).map((c) => {
    const due = Date.parse(c.deadline);
    return h('tr', {}, h('td', {}, c.title || c.category || c.id), h('td', {}, (c.units || []).join('、')),
      h('td', { class: 'late' }, Number.isNaN(due) ? '已超期' : formatDuration(due - now)));
  })));
}

export function mount(root) {
  const clock = h('span', { class: 'clock' });
  const panels = { tiles: h('div'), topics: h('div'), newest: h('div', { class: 'newest' }), trend: h('div'), overdue: h('div', { class: 'overdue' }) };
  const stamp = h('div', { class: 'stamp', role: 'status' });
  replace(root, h('div', { class: 'wall' },
    h('h1', {}, h('span', {}, '舆情监测 · 值班大屏'), clock),
    h('section', { 'aria-label': '今日预警' }, h('h2', {}, '今日预警（按级别）'), panels.tiles),
    h('section', { 'aria-label': '今日专题' }, h('h2', {}, '今日预警（按专题）'), panels.topics),
    h('section', { 'aria-label': '最新预警' }, h('h2', {}, '最新预警'), panels.newest),
    h('section', { 'aria-label': '近24小时趋势与超期件' }, h('h2', {}, '近24小时预警趋势（每小时）'), panels.trend,
      h('h2', {}, '政府信箱超期件'), panels.overdue, stamp)));
  let alive = true;
  const tick = () => { clock.textContent = `${formatTime(Date.now())} ${zoneName()}`; };
  async function alerts() {
    try {
      const now = Date.now();
      const [{ alerts: list }, { cases }] = await Promise.all([
        api.get('/api/v1/alerts', { limit: 10000 }),
        api.get('/api/v1/cases', { state: 'overdue', limit: 100 }).catch(() => ({ cases: [] })),
      ]);
      if (!alive) return;
      const today = list.filter((a) => a.fired_ms >= dayStart(now));
      replace(panels.tiles, tiles(today, list.filter((a) => a.state !== 'closed')));
      replace(panels.topics, topicTable(today));
      replace(panels.newest, newest(list, now));
      replace(panels.overdue, overdueTable(cases, now));
      replace(panels.trend, trendSvg(list, now));
      stamp.textContent = `更新于 ${formatTime(now)}`;
    } catch (e) {
      stamp.textContent = `更新失败：${e.message}（将自动重试）`;
    }
  }
  tick();
  alerts();
  const timers = [setInterval(tick, 1000), setInterval(alerts, 15000)];
  return () => { alive = false; timers.forEach(clearInterval); };
}
