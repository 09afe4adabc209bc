// Analysts' verdicts (issue 23) as the views show them: a hit's current verdict as a badge,
// the 有效 / 误报 / 待定 buttons with an optional note for a person whose role may give
// them (analyst, admin: POST /api/v1/hits/ID/verdict), the hit's verdict history on
// demand (GET /api/v1/hits/ID/verdict), and the same buttons for a whole alert, which
// mark its examples (POST /api/v1/alerts/ID/verdict). Shared by 命中检索 and 值班台.
// A person's token names them; with the shared token the name is typed (kept as a
// preference in localStorage, like the name of 签收).
import { api } from '../api.js';
import { append, h, replace, toast } from '../dom.js';
import { VERDICTS, VERDICT_TEXT } from '../labels.js';
import { formatTime } from '../time.js';

const WHO_KEY = 'yuqing.who';

// The verdict's time in ms, from either form the API gives (time_ms, or RFC 3339 time).
function timeOf(v) { return v.time_ms || Date.parse(v.time) || 0; }

// The current verdict as a badge; v is null (not judged) or {verdict, who, note, time(_ms)}.
export function verdictBadge(v) {
  if (!v) return h('span', { class: 'verdict verdict-none', dataset: { verdict: '' } }, '未研判');
  const label = VERDICT_TEXT[v.verdict] || v.verdict;
  return h('span', {
    class: `verdict verdict-${v.verdict}`, dataset: { verdict: v.verdict },
    title: `${label} · ${v.who || '—'} · ${formatTime(timeOf(v))}${v.note ? ` · ${v.note}` : ''}`,
  }, h('strong', {}, label), h('span', { class: 'verdict-by' }, ` ${v.who || ''} ${formatTime(timeOf(v))}`),
  v.note ? h('span', { class: 'verdict-note' }, ` “${v.note}”`) : null);
}

// The name field for the shared token (null when the token names the person).
export function whoField(session, id) {
  if (session.name) return null;
  const input = h('input', { id, type: 'text', maxlength: '60', autocomplete: 'off', value: localStorage.getItem(WHO_KEY) || '' });
  input.addEventListener('change', () => localStorage.setItem(WHO_KEY, input.value.trim()));
  return h('label', { for: id, class: 'verdict-who' }, '研判人姓名（共享令牌必填）', input);
}

// The body of a verdict: verdict, note, and who (the shared token only).
function body(session, verdict, note) {
  const out = { verdict, note };
  if (!session.name) {
    const who = (localStorage.getItem(WHO_KEY) || '').trim();
    const field = document.querySelector('.verdict-who input');
    out.who = field ? field.value.trim() : who;
    if (field) localStorage.setItem(WHO_KEY, out.who);
  }
  return out;
}

function historyList(record) {
  const entries = [...(record.history || [])].reverse();
  return h('ol', { class: 'verdict-history' }, entries.map((e) => h('li', {},
    h('span', { class: 'when' }, formatTime(e.time_ms)), ' ',
    h('span', { class: `verdict verdict-${e.verdict}` }, VERDICT_TEXT[e.verdict] || e.verdict), ' ',
    e.who || '—', e.note ? ` · ${e.note}` : '', e.alert ? h('span', { class: 'muted' }, `（整条预警 ${e.alert}）`) : '')));
}

// A hit's verdict: the badge, the buttons and note (when the role allows), the history on
// demand. hit: {id, verdict} as /api/v1/hits lists it; label names the hit for the
// buttons' accessible names ("规则 R1 2026-12-02 09:40").
export function hitVerdict(hit, session, label = '') {
  const path = `/api/v1/hits/${encodeURIComponent(hit.id)}/verdict`;
  const badge = h('span', { class: 'verdict-current' }, verdictBadge(hit.verdict));
  const history = h('div', { class: 'verdict-history-box' });
  const details = h('details', { class: 'verdict-log' }, h('summary', {}, '研判记录'), history);
  let loaded = false;
  async function loadHistory() {
    replace(history, h('span', { class: 'muted' }, '读取中…'));
    try {
      replace(history, historyList(await api.get(path)));
    } catch (e) {
      replace(history, e.status === 404 ? h('span', { class: 'muted' }, '暂无研判记录') : h('span', { class: 'error' }, e.message));
    }
    loaded = true;
  }
  details.addEventListener('toggle', () => { if (details.open && !loaded) loadHistory(); });
  const box = h('div', { class: 'verdict-box', dataset: { hit: hit.id } }, badge);
  if (session.can('verdicts.give')) {
    const note = h('input', { type: 'text', class: 'verdict-note-input', maxlength: '1000', placeholder: '备注（可选）', 'aria-label': `研判备注 ${label}` });
    const give = async (verdict, button) => {
      const buttons = box.querySelectorAll('button');
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const rec = await api.post(path, body(session, verdict, note.value.trim()));
        replace(badge, verdictBadge(rec.current));
        note.value = '';
        if (details.open) replace(history, historyList(rec));
        else loaded = false;
        toast(`已标记为${VERDICT_TEXT[verdict]}`);
      } catch (e) {
        toast(e.message, 'error');
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
        button.focus();
      }
    };
    box.append(h('span', { class: 'verdict-buttons', role: 'group', 'aria-label': `研判 ${label}` },
      VERDICTS.map((v) => {
        const b = h('button', { type: 'button', class: `verdict-button v-${v}`, dataset: { verdict: v }, 'aria-label': `标记为${VERDICT_TEXT[v]} ${label}` }, VERDICT_TEXT[v]);
        b.addEventListener('click', () => give(v, b));
        return b;
      }), note));
  }
  box.append(details);
  return box;
}

// A whole alert's verdict: its current one (GET /api/v1/alerts/ID/verdict) and, when the
// role allows, the buttons that mark every example of the alert; onGiven() redraws them.
export function alertVerdict(alert, session, onGiven) {
  const path = `/api/v1/alerts/${encodeURIComponent(alert.id)}/verdict`;
  const current = h('span', { class: 'verdict-current' }, h('span', { class: 'muted' }, '读取中…'));
  const box = h('div', { class: 'alert-verdict', role: 'group', 'aria-label': '整条预警研判' },
    h('span', { class: 'muted' }, '整条预警研判（标记全部示例命中）：'), current);
  const show = (v) => replace(current, verdictBadge(v));
  api.get(path).then(show, (e) => (e.status === 404 ? show(null) : replace(current, h('span', { class: 'error' }, e.message))));
  if (session.can('verdicts.give')) {
    const note = h('input', { id: 'alert-verdict-note', type: 'text', maxlength: '1000', placeholder: '备注（可选）' });
    const who = whoField(session, 'alert-verdict-who');
    const buttons = VERDICTS.map((v) => h('button', {
      type: 'button', class: `verdict-button v-${v}`, id: `alert-verdict-${v}`, dataset: { verdict: v },
      onclick: async () => {
        buttons.forEach((b) => { b.disabled = true; });
        try {
          const r = await api.post(path, body(session, v, note.value.trim()));
          show({ verdict: r.verdict, who: r.who, note: note.value.trim(), time_ms: Date.now() });
          note.value = '';
          const missing = (r.examples_without_hit || []).length;
          toast(`整条预警已标记为${VERDICT_TEXT[v]}：${r.hits_marked.length} 条示例命中${missing ? `，${missing} 条示例已无命中记录` : ''}`);
          onGiven();
        } catch (e) {
          toast(e.message, 'error');
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      },
    }, `整条${VERDICT_TEXT[v]}`));
    append(box, [h('span', { class: 'verdict-buttons' }, buttons),
      h('label', { for: 'alert-verdict-note' }, '备注', note), who]);
  }
  return box;
}
