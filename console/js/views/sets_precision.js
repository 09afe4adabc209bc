// The 准确率 tab of a keyword set (issue 23 items 2 and 4). Per rule, ranked by false hits
// as the daemon ranks them: hits, judged, 有效, 误报, 待定, precision and its 95% Wilson
// interval (GET /api/v1/precision?set=ID&from=AGE). For every rule with false verdicts its
// suggested exclusions (GET /api/v1/suggestions?set&rule&since): the text, whether it goes
// to the set's allow list or the rule's none list, F and R (false and relevant hits holding
// it), spam% / ham%, S/O and the score S/O × spam%, and what the backtest over the stored
// messages says it would remove (false hits removed, relevant hits lost). 采纳 (analyst,
// admin) applies one (POST /api/v1/suggestions/apply with the same since, so the numbering
// is the list shown) as a new version of the set; onApplied(answer) reloads the view.
import { api } from '../api.js';
import { h, highlightBracketed, replace, toast } from '../dom.js';
import { formatTime } from '../time.js';

export const PERIODS = [['', '全部'], ['30d', '近30天'], ['7d', '近7天'], ['1d', '近1天']];
const KIND_TEXT = { allow: '允许词（allow）', none: '排除词（none）' };

const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

export function intervalText(r) {
  return r.interval ? `${(r.interval.low * 100).toFixed(1)}% – ${(r.interval.high * 100).toFixed(1)}%` : '—';
}

function rulesTable(rules) {
  const cols = ['规则', '命中', '已研判', '有效', '误报', '待定', '准确率', '95% 置信区间（Wilson）'];
  return h('table', { class: 'grid precision' },
    h('caption', {}, '各规则准确率（按误报数排序）'),
    h('thead', {}, h('tr', {}, cols.map((t, i) => h('th', { scope: 'col', class: i ? 'n' : '' }, t)))),
    h('tbody', {}, rules.map((r) => h('tr', { dataset: { rule: r.rule }, class: r.false ? 'noisy' : '' },
      h('td', {}, h('a', { href: `#/hits?set=${encodeURIComponent(r.set)}&rule=${encodeURIComponent(r.rule)}&since=30d` }, r.rule)),
      h('td', { class: 'n hits' }, String(r.hits)), h('td', { class: 'n judged' }, String(r.judged)),
      h('td', { class: 'n relevant' }, String(r.relevant)), h('td', { class: 'n false' }, String(r.false)),
      h('td', { class: 'n undetermined' }, String(r.undetermined)),
      h('td', { class: 'n precision-value' }, pct(r.precision)),
      h('td', { class: 'n interval' }, intervalText(r))))));
}

function suggestionsTable(res, canApply, apply) {
  if (!res.suggestions.length) {
    return h('p', { class: 'muted' }, `暂无建议（误报 ${res.judged_false} 条，有效 ${res.judged_relevant} 条${res.not_stored ? `，${res.not_stored} 条原文已过保留期` : ''}）。`);
  }
  const cols = ['#', '建议', '类型', 'S/O', '得分', '误报中出现 F', '有效中出现 R', '回测：去掉误报', '回测：失去有效', '回测：去掉命中', '误报例句', ''];
  return h('table', { class: 'grid suggestions', dataset: { rule: res.rule } },
    h('caption', {}, `规则 ${res.rule} 的排除建议（误报 ${res.judged_false} 条，有效 ${res.judged_relevant} 条；得分 = S/O × 误报占比）`),
    h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, res.suggestions.map((s) => {
      const b = s.backtest || {};
      return h('tr', { dataset: { n: String(s.n), text: s.text } },
        h('td', { class: 'n' }, String(s.n)), h('td', { class: 'term' }, h('mark', {}, s.text)),
        h('td', {}, KIND_TEXT[s.kind] || s.kind),
        h('td', { class: 'n so' }, s.so.toFixed(2)), h('td', { class: 'n score' }, s.score.toFixed(2)),
        h('td', { class: 'n' }, `${s.false_with}（${pct(s.spam)}）`), h('td', { class: 'n' }, `${s.relevant_with}（${pct(s.ham)}）`),
        h('td', { class: 'n false-removed' }, s.measured ? String(b.false_removed) : '—'),
        h('td', { class: 'n relevant-lost' }, s.measured ? String(b.relevant_lost) : '—'),
        h('td', { class: 'n' }, s.measured ? `${b.hits_removed} / ${b.hits_scanned}` : '—'),
        h('td', { class: 'example-text' }, s.example ? highlightBracketed(s.example) : ''),
        h('td', {}, canApply ? h('button', {
          type: 'button', class: 'primary apply', 'aria-label': `采纳建议 ${s.n}：${s.text}`,
          onclick: (ev) => apply(res.rule, s, ev.currentTarget),
        }, '采纳') : ''));
    })));
}

export function precisionPanel({ set, canApply, period = '', onPeriod, onApplied }) {
  const sel = h('select', { id: 'precision-period', 'aria-label': '统计时段' },
    PERIODS.map(([v, t]) => h('option', { value: v, selected: v === period }, t)));
  const summary = h('p', { class: 'muted precision-summary', role: 'status' });
  const table = h('div', { class: 'precision-rules' });
  const suggestions = h('div', { class: 'precision-suggestions' });
  const notice = h('div', { class: 'apply-state', role: 'status', 'aria-live': 'polite' });
  const el = h('div', { class: 'precision-panel' },
    h('div', { class: 'row-controls' }, h('label', { for: 'precision-period' }, '统计时段 ', sel), summary), notice, table, suggestions);
  sel.addEventListener('change', () => { period = sel.value; if (onPeriod) onPeriod(period); refresh(); });

  async function apply(rule, s, button) {
    button.disabled = true;
    notice.className = 'apply-state';
    notice.textContent = `正在采纳「${s.text}」…`;
    try {
      const r = await api.post('/api/v1/suggestions/apply', { set, rule, n: s.n, since: period || undefined });
      const reload = r.reload || {};
      const failed = reload.ok === false;
      const text = failed ? `已写入「${r.applied.text}」，但重新加载失败：${(reload.errors || []).join('；')}`
        : `已采纳「${r.applied.text}」（${KIND_TEXT[r.applied.kind] || r.applied.kind}），正在显示新版本…`;
      notice.className = `apply-state ${failed ? 'bad' : 'ok'}`;
      notice.textContent = text;
      toast(text, failed ? 'error' : 'info');
      if (onApplied) onApplied({ ...r, rule });
    } catch (e) {
      notice.className = 'apply-state bad';
      notice.textContent = `未采纳：${e.message}`;
      button.disabled = false;
    }
  }

  async function refresh() {
    replace(summary, '读取中…');
    let rep;
    try {
      rep = await api.get('/api/v1/precision', { set, from: period });
    } catch (e) {
      replace(summary, h('span', { class: 'error' }, `无法读取准确率：${e.message}`));
      return;
    }
    const rules = rep.rules.filter((r) => r.set === set);
    replace(summary, `${period ? PERIODS.find((p) => p[0] === period)[1] : '全部时间'}：命中 ${rep.hits} 条，已研判 ${rep.judged} 条`,
      period && rep.from ? `（自 ${formatTime(Date.parse(rep.from))}）` : '');
    replace(table, rules.length ? rulesTable(rules) : h('p', { class: 'muted' }, '该关键词集暂无命中。'));
    const noisy = rules.filter((r) => r.false > 0);
    replace(suggestions, noisy.length ? h('h4', {}, '排除建议') : h('p', { class: 'muted' }, '没有被标记为误报的命中，暂无排除建议。'));
    for (const r of noisy) {
      const box = h('div', { class: 'suggestion-box', dataset: { rule: r.rule }, 'aria-busy': 'true' }, h('p', { class: 'muted' }, `正在计算规则 ${r.rule} 的排除建议（回测已存储消息）…`));
      suggestions.append(box);
      api.get('/api/v1/suggestions', { set, rule: r.rule, since: period }).then((res) => {
        replace(box, suggestionsTable(res, canApply, apply));
      }, (e) => replace(box, h('p', { class: 'error' }, `规则 ${r.rule}：${e.message}`)))
        .finally(() => box.setAttribute('aria-busy', 'false'));
    }
  }

  return { el, refresh, notice };
}
