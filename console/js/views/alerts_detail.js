// One alert in full: its facts, clocks, the actions the person's role allows (签收, 处置
// with a note and a name), the examples with every hit span highlighted in the original
// message (GET /api/v1/messages/KEY and /api/v1/hits?message=KEY), each with the verdict
// on its hit (and for an analyst the 有效 / 误报 / 待定 buttons, per example and for the
// whole alert: verdict.js), and the audit trail.
import { api } from '../api.js';
import { h, highlightBracketed, highlightBytes, replace } from '../dom.js';
import { ACTION_TEXT, CONDITION_TEXT, KIND_TEXT, LEVEL_TEXT, STATE_TEXT } from '../labels.js';
import { clocks, topicOf } from '../alert_model.js';
import { formatDuration, formatTime } from '../time.js';
import { alertVerdict, hitVerdict } from './verdict.js';

const WHO_KEY = 'yuqing.who';

// Only web links are links (never javascript: or data:).
function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  } catch (_) { return ''; }
}

function facts(a) {
  const rows = [
    ['级别', `${LEVEL_TEXT[a.level] || a.level}预警`],
    ['状态', `${STATE_TEXT[a.state] || a.state} · ${CONDITION_TEXT[a.condition] || a.condition}`],
    ['类型', KIND_TEXT[a.kind] || a.kind],
    ['专题', `${topicOf(a)}（${a.topic}）`],
    ['规则', [a.set, a.alert_rule, a.keyword_rule].filter(Boolean).join(' / ')],
    ['预案条目', a.plan_item ? `第 ${a.plan_item} 项 ${a.plan_text || ''}` : '—'],
    ['牵头单位', (a.lead_units || []).join('、') || '—'],
    ['配合单位', (a.cooperating_units || []).join('、') || '—'],
    ['消息数', `${a.count || 0} 条${a.window_ms ? `（${Math.round(a.window_ms / 60000)} 分钟窗口）` : ''}${a.distinct ? `，${a.distinct} 个${({author: '作者', source: '来源'})[a.distinct_by] || '作者或来源'}` : ''}`],
    ['首条/末条', `${formatTime(a.first_hit_ms)} / ${formatTime(a.last_hit_ms)}`],
    ['触发时间', formatTime(a.fired_ms)],
    ['签收', a.acknowledged_ms ? formatTime(a.acknowledged_ms) : '—'],
    ['处置', a.handled_ms ? formatTime(a.handled_ms) : '—'],
  ];
  return h('dl', {}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function clockLine(a, now = Date.now()) {
  const list = clocks(a);
  if (!list.length) return h('p', { class: 'clocks muted' }, a.state === 'closed' ? '已办结' : '无待办时限');
  return h('p', { class: 'clocks' }, list.map((c) => {
    const left = c.due - now;
    return h('span', { class: left < 0 ? 'clock late' : left < 15 * 60000 ? 'clock soon' : 'clock' },
      `${c.label}：${formatTime(c.due)}（${left < 0 ? '' : '剩余 '}${formatDuration(left)}） `);
  }));
}

function audit(a) {
  const entries = [...(a.audit || [])].reverse();
  return h('table', { class: 'audit' },
    h('caption', { class: 'visually-hidden' }, '处理记录'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '时间'), h('th', { scope: 'col' }, '动作'),
      h('th', { scope: 'col' }, '人员'), h('th', { scope: 'col' }, '说明'))),
    h('tbody', {}, entries.map((e) => h('tr', {},
      h('td', {}, formatTime(e.time_ms)), h('td', {}, ACTION_TEXT[e.action] || e.action),
      h('td', {}, e.who === 'yuqing' ? '系统' : e.who), h('td', {}, e.note || '')))));
}

// The actions form, kept while the same alert stays selected (so a half-typed note stays).
export function actionsForm(session, onAct) {
  const note = h('input', { id: 'alert-note', type: 'text', maxlength: '1000', autocomplete: 'off' });
  const who = h('input', { id: 'alert-who', type: 'text', maxlength: '60', value: localStorage.getItem(WHO_KEY) || '' });
  const ack = h('button', { type: 'button', class: 'primary', id: 'alert-ack', 'aria-keyshortcuts': 'a' }, '签收 (A)');
  const handle = h('button', { type: 'button', id: 'alert-handle', 'aria-keyshortcuts': 'h' }, '处置 (H)');
  const named = !!session.name;
  const form = h('div', { class: 'actions', role: 'group', 'aria-label': '签收与处置' },
    named ? h('span', { class: 'muted' }, `以 ${session.name}（${session.unit}）身份`) :
      h('label', { for: 'alert-who' }, '姓名（使用共享令牌时必填）', who),
    h('label', { for: 'alert-note' }, '备注 / 处置说明', note), ack, handle);
  const act = (action) => {
    if (!named) localStorage.setItem(WHO_KEY, who.value.trim());
    onAct(action, { who: named ? undefined : who.value.trim(), note: note.value.trim() });
  };
  ack.addEventListener('click', () => act('ack'));
  handle.addEventListener('click', () => act('handle'));
  note.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); act(form.dataset.pending === 'ack' ? 'ack' : 'handle'); }
  });
  return { form, note, who, ack, handle, act };
}

// The hit of an example: the alert's set and the example's rule (else the alert's).
function hitOf(a, ex, hits) {
  const rule = ex.rule || a.keyword_rule;
  return hits.find((x) => x.set === a.set && x.rule === rule) || null;
}

async function exampleNode(a, ex, session) {
  const box = h('article', { class: 'example' });
  let msg = null;
  let hits = [];
  try {
    [msg, hits] = await Promise.all([
      api.get(`/api/v1/messages/${encodeURIComponent(ex.message_key)}`),
      api.get('/api/v1/hits', { message: ex.message_key, limit: 1000 }).then((r) => r.hits || []),
    ]);
  } catch (e) {
    msg = null;
  }
  const url = msg ? safeUrl(msg.url) : '';
  replace(box,
    h('div', { class: 'meta' },
      h('span', {}, formatTime(ex.time_ms)),
      h('span', {}, `渠道：${(msg && msg.channel) || '—'}`),
      h('span', {}, `作者：${(msg && msg.author) || ex.author || '—'}`),
      h('span', {}, `地区：${(msg && msg.region) || '—'}`),
      h('span', {}, `规则：${ex.rule}`),
      url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, '查看原文') : null),
    a.set && hitOf(a, ex, hits) ? hitVerdict(hitOf(a, ex, hits), session, `示例 ${formatTime(ex.time_ms)}`) : null,
    msg ? Object.entries(msg.text || {}).map(([field, text]) => h('p', { class: 'text', dataset: { field } },
      highlightBytes(text, hits.flatMap((x) => x.spans || []).filter((s) => s.field === field))))
      : [h('p', { class: 'text' }, highlightBracketed(ex.text || '')),
        h('p', { class: 'muted' }, '原文已不在存储中（超过保留期），以上为预警摘录。')]);
  return box;
}

// Examples load once per alert; the node is filled in when they arrive.
export function examplesNode(a, session) {
  const box = h('div', { class: 'examples', 'aria-busy': 'true' }, h('p', { class: 'muted' }, '正在加载原文…'));
  Promise.all((a.examples || []).map((ex) => exampleNode(a, ex, session))).then((nodes) => {
    replace(box, nodes.length ? nodes : h('p', { class: 'muted' }, '无示例消息'));
    box.setAttribute('aria-busy', 'false');
  });
  return box;
}

export function detailHeader(a) {
  return [h('h2', {}, h('span', { class: `level level-${a.level}` }, LEVEL_TEXT[a.level] || a.level), ' ', a.summary || topicOf(a)),
    h('p', { class: 'muted' }, `编号 ${a.id}`), facts(a)];
}

const exampleKeys = (a) => (a.examples || []).map((e) => e.message_key).join('\n');

// The right-hand panel: rebuilt when another alert is chosen; for the same alert only its
// facts, clocks and audit are redrawn (the note being typed and the examples stay).
export class DetailPanel {
  constructor(el, session, onAct) {
    this.el = el;
    this.session = session;
    this.onAct = onAct;
    this.id = '';
  }

  show(a, total) {
    if (!a) {
      this.id = '';
      replace(this.el, h('p', { class: 'muted' }, total ? '选择左侧一条预警查看详情（j/k 上下移动）。' : '当前没有预警。'));
      return;
    }
    const s = this.session;
    if (this.id !== a.id) {
      this.id = a.id;
      this.form = s.can('alerts.ack') || s.can('alerts.handle') ? actionsForm(s, this.onAct) : null;
      this.parts = { head: h('div'), clocks: h('div'), examples: examplesNode(a, s), audit: h('div'), keys: exampleKeys(a) };
      const p = this.parts;
      const verdict = a.set && (a.examples || []).length ? alertVerdict(a, s, () => this.reloadExamples(a)) : null;
      replace(this.el, p.head, p.clocks, this.form ? this.form.form : null, h('h3', {}, '示例消息'), verdict, p.examples,
        h('h3', {}, '处理记录'), p.audit);
    } else if (this.parts.keys !== exampleKeys(a)) {
      const fresh = examplesNode(a, s);
      this.parts.examples.replaceWith(fresh);
      Object.assign(this.parts, { examples: fresh, keys: exampleKeys(a) });
    }
    replace(this.parts.head, detailHeader(a));
    replace(this.parts.clocks, clockLine(a));
    replace(this.parts.audit, audit(a));
    if (this.form) {
      this.form.ack.hidden = !(s.can('alerts.ack') && a.state === 'open');
      this.form.handle.hidden = !(s.can('alerts.handle') && (a.state === 'open' || a.state === 'acknowledged'));
      this.form.form.hidden = this.form.ack.hidden && this.form.handle.hidden;
    }
  }

  // The examples again (their verdicts changed).
  reloadExamples(a) {
    if (this.id !== a.id) return;
    const fresh = examplesNode(a, this.session);
    this.parts.examples.replaceWith(fresh);
    this.parts.examples = fresh;
  }

  // The handle key without a note: the note field takes the focus, Enter submits.
  askNote(action) {
    this.form.form.dataset.pending = action;
    this.form.note.focus();
  }

  done() {
    this.form.note.value = '';
    delete this.form.form.dataset.pending;
  }
}
