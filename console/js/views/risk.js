// 风险研判 (issue 24, for the leadership): every policy topic with its risk index (0–100),
// its level 低 / 中 / 高 / 极高 in colour, its trend over the last 24 hours (the change and
// a sparkline of the index, GET /api/v1/risk/series), and every part the index is made of
// next to it — the points each part adds (they sum to the index) with the figures behind
// them: volume, growth against the baseline, spread, negative share, mailbox pressure —
// and the topic's regions by index. Read-only; refreshes itself every minute.
// #/risk?topic=epidemic also lists that topic's regions with all their parts.
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { RISK_TEXT } from '../labels.js';
import { formatShort, formatTime, zoneName } from '../time.js';

const REFRESH_MS = 60000;
const ALL = '全市';
const PARTS = ['volume', 'growth', 'spread', 'negative', 'mailbox'];
const PART_TEXT = { volume: '声量', growth: '增长', spread: '扩散', negative: '负面占比', mailbox: '信箱压力' };

const one = (x) => (Number(x) || 0).toFixed(1);
const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// The figures behind a part, in words.
function figuresText(name, f, part) {
  if (part && !part.known) {
    if (name === 'negative') return '未知：未配置情感词表';
    if (name === 'growth') return '未知：基线不足一天';
    return '未知';
  }
  switch (name) {
    case 'volume': return `消息 ${f.messages} 条`;
    case 'growth': return `${f.growth === null ? '—' : `${f.growth.toFixed(2)} 倍`}（基线 ${f.baseline === null ? '—' : f.baseline.toFixed(1)}，${f.baseline_days} 天）`;
    case 'spread': return `作者 ${f.authors} · 渠道 ${f.channels} · 来源 ${f.sources}`;
    case 'negative': {
      const known = f.negative + f.neutral + f.positive;
      return `负面 ${f.negative} / ${known}${f.tendency_unknown ? `（未判 ${f.tendency_unknown}）` : ''}`;
    }
    case 'mailbox': return `未办 ${f.mailbox_open} · 超期 ${f.mailbox_overdue} · 近期 ${f.mailbox_recent}${f.concentrated ? ' · 集中' : ''}`;
    default: return '';
  }
}

function partCell(r, name) {
  const p = (r.parts || []).find((x) => x.name === name);
  if (!p) return h('td', { class: 'part', dataset: { part: name } }, '—');
  return h('td', {
    class: `part${p.known ? '' : ' unknown'}`, dataset: { part: name, points: one(p.points), known: String(p.known) },
    title: p.known ? `${PART_TEXT[name]}：得分 ${p.score.toFixed(3)} × 权重 ${p.weight} → ${one(p.points)} 分` : `${PART_TEXT[name]}：未知，不计入指数`,
  }, h('div', { class: 'points' }, p.known ? one(p.points) : '—'), h('div', { class: 'figures' }, figuresText(name, r.figures, p)));
}

function levelBadge(r) {
  return h('span', { class: `risk-level risk-${r.level}` }, r.level_label || RISK_TEXT[r.level] || r.level);
}

// The index over the last 24 hours: a polyline on a fixed 0–100 scale, the last point marked.
export function sparkline(readings, topic) {
  const W = 160, H = 40, pad = 3;
  const vals = readings.map((r) => r.value);
  const label = vals.length
    ? `${topic} 近24小时风险指数：最低 ${one(Math.min(...vals))}，最高 ${one(Math.max(...vals))}，最新 ${one(vals[vals.length - 1])}`
    : `${topic} 近24小时暂无读数`;
  const svg = h('svg:svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label },
    h('svg:title', {}, label));
  svg.append(h('svg:line', { class: 'spark-axis', x1: 0, y1: H - pad, x2: W, y2: H - pad }));
  if (vals.length) {
    const x = (i) => (vals.length === 1 ? W - pad : pad + (i * (W - 2 * pad)) / (vals.length - 1));
    const y = (v) => H - pad - (Math.max(0, Math.min(100, v)) / 100) * (H - 2 * pad);
    svg.append(h('svg:polyline', { class: 'spark-line', points: vals.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
    const last = readings[readings.length - 1];
    svg.append(h('svg:circle', { class: `spark-dot risk-${last.level}`, cx: x(vals.length - 1).toFixed(1), cy: y(last.value).toFixed(1), r: 3 }));
  }
  return svg;
}

// The change against the first reading of the last 24 hours.
function trendCell(r, series) {
  if (!series) return h('td', { class: 'trend' }, h('span', { class: 'muted' }, '…'));
  const first = series.readings[0];
  const delta = first ? r.value - first.value : null;
  const arrow = delta === null ? '新' : delta >= 5 ? '↑' : delta <= -5 ? '↓' : '→';
  const cls = delta === null ? 'new' : delta >= 5 ? 'up' : delta <= -5 ? 'down' : 'flat';
  return h('td', { class: `trend ${cls}` },
    h('div', { class: 'trend-text' }, h('span', { class: 'arrow' }, arrow),
      delta === null ? ' 无24小时前读数' : ` ${delta >= 0 ? '+' : ''}${one(delta)}（较 ${formatShort(first.at_ms)}）`),
    sparkline(series.readings, r.topic));
}

function regionChips(regions, topic) {
  if (!regions.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'regions' }, regions.map((x) => h('a', {
    class: `region-chip risk-${x.level}`, href: `#/risk?topic=${encodeURIComponent(topic)}`,
    title: `${x.region}：风险指数 ${one(x.value)}（${x.level_label}），消息 ${x.figures.messages} 条`,
    dataset: { region: x.region, value: one(x.value) },
  }, `${x.region} ${one(x.value)}`)));
}

// A bar of the index's length (a CSSOM width: the CSP allows no style attribute).
function indexBar(r) {
  const fill = h('span', { class: `fill risk-${r.level}` });
  fill.style.width = `${Math.max(0, Math.min(100, r.value))}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

const HEAD = ['专题', '风险指数', '等级', '趋势（近24小时）', ...PARTS.map((p) => `${PART_TEXT[p]}（分）`)];

function topicRow(r, name, series, regions, chosen) {
  return h('tr', { class: `topic${chosen ? ' selected' : ''}`, dataset: { topic: r.topic, value: one(r.value), level: r.level } },
    h('th', { scope: 'row' }, h('a', { href: `#/risk?topic=${encodeURIComponent(r.topic)}` }, name),
      name !== r.topic ? h('div', { class: 'muted topic-id' }, r.topic) : null),
    h('td', { class: 'index' }, h('span', { class: 'value' }, one(r.value)), indexBar(r)),
    h('td', {}, levelBadge(r)),
    trendCell(r, series),
    PARTS.map((p) => partCell(r, p)),
    h('td', { class: 'regions-cell' }, regionChips(regions, r.topic)));
}

function regionTable(topicName, regions) {
  return h('table', { class: 'grid risk risk-regions' },
    h('caption', {}, `${topicName} · 分地区风险指数`),
    h('thead', {}, h('tr', {}, ['地区', '风险指数', '等级', ...PARTS.map((p) => `${PART_TEXT[p]}（分）`)].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, regions.map((x) => h('tr', { dataset: { region: x.region, value: one(x.value) } },
      h('th', { scope: 'row' }, x.region), h('td', { class: 'index' }, h('span', { class: 'value' }, one(x.value))),
      h('td', {}, levelBadge(x)), PARTS.map((p) => partCell(x, p))))));
}

export function mount(root, ctx) {
  const topicParam = ctx.params.get('topic') || '';
  const head = h('p', { class: 'muted risk-meta' });
  const body = h('div', { class: 'risk-body' }, h('p', { class: 'muted' }, '正在读取风险指数…'));
  const regions = h('div', { class: 'risk-region-box' });
  const stamp = h('p', { class: 'stamp muted', role: 'status', 'aria-live': 'polite' });
  replace(root, h('div', { class: 'risk-view' },
    h('h2', {}, '风险研判 Risk assessment'), head,
    h('p', { class: 'muted formula' }, '风险指数 = 100 × Σ(权重 × 分项得分) ÷ Σ权重（只计已知分项）；各分项的“分”相加即为指数。等级升至阈值即升级，连续数个读数低于阈值减回差才降级。'),
    body, regions, stamp));
  let alive = true;
  let timer = null;
  const names = new Map();  // topic -> the name of its keyword sets

  async function topicNames() {
    try {
      for (const s of (await api.get('/api/v1/keyword-sets')).sets) {
        if (s.topic && s.name && !names.has(s.topic)) names.set(s.topic, s.name);
      }
    } catch (_) { /* the topic's id is shown instead */ }
  }

  async function load() {
    let risk;
    try {
      risk = await api.get('/api/v1/risk');
    } catch (e) {
      if (!alive) return;
      stamp.textContent = e.status === 503 ? '风险研判正在启动（从存储重建），稍后自动重试…' : `读取失败：${e.message}（将自动重试）`;
      timer = setTimeout(load, e.status === 503 ? 3000 : REFRESH_MS);
      return;
    }
    const all = risk.readings.filter((r) => r.region === ALL).sort((a, b) => b.value - a.value || byText(a.topic, b.topic));
    const byTopic = new Map(all.map((r) => [r.topic, []]));
    for (const r of risk.readings) if (r.region !== ALL && byTopic.has(r.topic)) byTopic.get(r.topic).push(r);
    for (const list of byTopic.values()) list.sort((a, b) => b.value - a.value || byText(a.region, b.region));
    const series = new Map(await Promise.all(all.map((r) => api.get('/api/v1/risk/series', { topic: r.topic })
      .then((s) => [r.topic, s], () => [r.topic, { readings: [] }]))));
    if (!alive) return;
    const at = all.length ? Math.max(...all.map((r) => r.at_ms)) : 0;
    replace(head, `窗口 ${risk.window_minutes} 分钟 · 每 ${risk.step_minutes} 分钟一个读数 · 情感倾向：`,
      risk.tendency === 'lexicon' ? '按词表计算' : '未配置词表（负面占比不计入）',
      at ? ` · 读数截至 ${formatTime(at)}（${zoneName()}）` : '');
    const nameOf = (t) => names.get(t) || t;
    replace(body, all.length ? h('table', { class: 'grid risk risk-topics' },
      h('caption', { class: 'visually-hidden' }, '各专题风险指数及其构成'),
      h('thead', {}, h('tr', {}, [...HEAD, '地区（按指数）'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, all.map((r) => topicRow(r, nameOf(r.topic), series.get(r.topic), byTopic.get(r.topic), r.topic === topicParam))))
      : h('p', { class: 'muted' }, '暂无专题读数：还没有命中政策专题的消息。'));
    if (topicParam && byTopic.has(topicParam)) replace(regions, regionTable(nameOf(topicParam), byTopic.get(topicParam)));
    else replace(regions, topicParam ? h('p', { class: 'muted' }, `专题 ${topicParam} 暂无读数。`) : '');
    stamp.textContent = `更新于 ${formatTime(Date.now())}，每分钟自动刷新`;
    timer = setTimeout(load, REFRESH_MS);
  }

  topicNames().then(load);
  return () => { alive = false; clearTimeout(timer); };
}
