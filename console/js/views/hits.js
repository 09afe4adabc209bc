// 命中检索: the stored hits by policy topic, set, rule, channel, region and time range
// (GET /api/v1/hits with excerpt=1: the text around each hit cut into plain and matched
// pieces, shown as text with <mark>), and a message opened with every hit in it marked.
// Each hit shows its verdict (有效 / 误报 / 待定, who, when, note) and its history on
// demand; an analyst gives one with the buttons of the row (verdict.js).
// #/hits?topic=epidemic&rule=R1&since=7d
import { api } from '../api.js';
import { h, highlightBytes, replace } from '../dom.js';
import { formatTime, offset } from '../time.js';
import { hitVerdict, whoField } from './verdict.js';

const FIELDS = [['topic', '专题'], ['set', '关键词集'], ['rule', '规则'], ['channel', '渠道'], ['region', '地区']];
const RANGES = [['1d', '近1天'], ['7d', '近7天'], ['30d', '近30天'], ['', '自定义']];

// "2026-12-02T09:40" typed in the configured offset -> epoch ms (NaN when empty).
export function localInputToMs(value) {
  if (!value) return NaN;
  const [date, time = '00:00'] = value.split('T');
  const [y, mo, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  return Date.UTC(y, mo - 1, d, hh, mm) - offset() * 60000;
}

function pieces(context) {
  if (!context) return h('span', { class: 'muted' }, '（原消息已过保留期）');
  return h('span', { class: 'excerpt' }, context.cut_before ? '…' : '',
    context.excerpt.map((p) => (p.hit ? h('mark', {}, p.text) : p.text)), context.cut_after ? '…' : '');
}

// A URL shown as a link only when it is http(s); anything else is text.
export function safeLink(url, label) {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return h('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer' }, label || u.href);
  } catch (_) { /* not a URL */ }
  return url ? h('span', {}, url) : '';
}

// A message with every hit span marked (its hits from GET /api/v1/hits?message=KEY).
export async function messageView(key) {
  const [m, hits] = await Promise.all([
    api.get(`/api/v1/messages/${encodeURIComponent(key)}`),
    api.get('/api/v1/hits', { message: key, limit: 1000 }).catch(() => ({ hits: [] })),
  ]);
  const spansOf = (field) => hits.hits.flatMap((x) => x.spans.filter((s) => s.field === field));
  const texts = Array.isArray(m.text) ? m.text : Object.entries(m.text || {}).map(([name, text]) => ({ name, text }));
  return h('article', { class: 'message' },
    h('h3', {}, m.title || key),
    h('dl', {},
      h('dt', {}, '时间'), h('dd', {}, formatTime(m.time_ms ?? Date.parse(m.time))),
      h('dt', {}, '渠道'), h('dd', {}, m.channel || '—'),
      h('dt', {}, '作者'), h('dd', {}, m.author || '—'),
      h('dt', {}, '地区'), h('dd', {}, m.region || '—'),
      h('dt', {}, '来源'), h('dd', {}, m.source || '—'),
      h('dt', {}, '原文链接'), h('dd', {}, safeLink(m.url) || '—'),
      h('dt', {}, '命中规则'), h('dd', {}, [...new Set(hits.hits.map((x) => `${x.set}/${x.rule}`))].join('、') || '—')),
    texts.map((t) => h('section', {}, h('h4', {}, t.name), h('p', { class: 'message-text' }, highlightBytes(t.text, spansOf(t.name))))));
}

function form(params, search) {
  const inputs = {};
  const fields = FIELDS.map(([key, label]) => h('label', {}, label,
    inputs[key] = h('input', { type: 'search', name: key, value: params.get(key) || '', 'aria-label': label })));
  const since = params.get('since') || (params.get('from') || params.get('to') ? '' : '7d');
  inputs.range = h('select', { 'aria-label': '时间范围' }, RANGES.map(([v, t]) => h('option', { value: v, selected: v === (RANGES.some((r) => r[0] === since) ? since : '') }, t)));
  inputs.from = h('input', { type: 'datetime-local', 'aria-label': '起始时间', value: params.get('from') || '' });
  inputs.to = h('input', { type: 'datetime-local', 'aria-label': '截止时间', value: params.get('to') || '' });
  const el = h('form', { class: 'filters hits-form', onsubmit: (e) => { e.preventDefault(); search(inputs); } },
    fields, h('label', {}, '时间', inputs.range), h('label', {}, '从', inputs.from), h('label', {}, '到', inputs.to),
    h('button', { type: 'submit', class: 'primary' }, '检索'));
  return { el, inputs };
}

function resultsTable(hits, open, session) {
  return h('table', { class: 'grid hits' },
    h('thead', {}, h('tr', {}, ['时间', '专题', '关键词集 / 规则', '渠道', '地区', '作者', '命中文本', '研判', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, hits.map((x) => h('tr', { dataset: { hit: x.id || '' } },
      h('td', { class: 'nowrap' }, formatTime(Date.parse(x.time))), h('td', {}, x.topic), h('td', {}, `${x.set} / ${x.rule}`),
      h('td', {}, x.channel), h('td', {}, (x.context && x.context.region) || '—'), h('td', {}, x.author || '—'),
      h('td', { class: 'hit-text' }, pieces(x.context)),
      h('td', { class: 'hit-verdict' }, x.id ? hitVerdict(x, session, `${x.rule} ${formatTime(Date.parse(x.time))}`) : '—'),
      h('td', {}, h('button', { type: 'button', onclick: () => open(x.message_key) }, '查看原文'))))));
}

export function mount(root, ctx) {
  const out = h('div', { class: 'hits-results', role: 'region', 'aria-label': '检索结果' });
  const message = h('div', { class: 'message-panel' });
  const f = form(ctx.params, search);
  const who = ctx.session.can('verdicts.give') ? whoField(ctx.session, 'hits-verdict-who') : null;
  replace(root, h('div', { class: 'hits-view' }, h('h2', {}, '命中检索 Hits'), f.el, who, out, message));

  async function open(key) {
    replace(message, '读取原文…');
    try {
      replace(message, await messageView(key));
      message.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      replace(message, h('p', { class: 'error' }, `无法读取消息 ${key}：${e.message}`));
    }
  }

  async function search(inputs) {
    const params = { excerpt: 1, limit: 500 };
    const link = {};
    for (const [key] of FIELDS) if (inputs[key].value.trim()) params[key] = link[key] = inputs[key].value.trim();
    if (inputs.range.value) {
      params.since = link.since = inputs.range.value;
    } else {
      const from = localInputToMs(inputs.from.value);
      const to = localInputToMs(inputs.to.value);
      if (!Number.isNaN(from)) { params.since = String(from); link.from = inputs.from.value; }
      if (!Number.isNaN(to)) { params.until = String(to); link.to = inputs.to.value; }
    }
    ctx.setParams(link);
    replace(out, '检索中…');
    try {
      const r = await api.get('/api/v1/hits', params);
      const hits = r.hits.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
      const judged = hits.filter((x) => x.verdict);
      const per = (v) => judged.filter((x) => x.verdict.verdict === v).length;
      replace(out, h('p', { class: 'muted' }, `共 ${hits.length} 条命中${r.limit_reached ? '（已达上限 500 条，请缩小范围）' : ''}，按时间倒序；`,
        `已研判 ${judged.length} 条（有效 ${per('relevant')}，误报 ${per('false')}，待定 ${per('undetermined')}）。`),
        hits.length ? resultsTable(hits, open, ctx.session) : '');
    } catch (e) {
      replace(out, h('p', { class: 'error' }, `检索失败：${e.message}`));
    }
  }

  search(f.inputs);
  return null;
}
