// The mailbox's period report (GET /api/v1/report, what `yuqingctl report` prints): its
// tables, the concentrated issues with their cluster members, and the downloads as CSV and
// Markdown, made by the daemon (GET /api/v1/report?format=csv|md), so that the file is the
// one `yuqingctl report --format csv|md` writes.
import { api } from '../api.js';
import { download, h, replace, toast } from '../dom.js';
import { formatTime } from '../time.js';

const COLUMNS = [['received', '收件'], ['answered_on_time', '按时答复'], ['answered_late', '超时答复'], ['open', '办理中'],
  ['overdue', '已超期'], ['reply_hours_median', '答复用时中位数（小时）'], ['reply_hours_p90', '答复用时 P90（小时）']];
const BY_TEXT = { topic: '按专题', category: '按类别', text: '相似内容', same_text: '同文多发' };

const hours = (x) => (x > 0 ? x.toFixed(1) : '—');

function figuresTable(caption, groups) {
  return h('table', { class: 'grid report' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', {}, ''), COLUMNS.map(([, t]) => h('th', {}, t)))),
    h('tbody', {}, Object.entries(groups).map(([name, f]) => h('tr', {}, h('th', { scope: 'row' }, name),
      COLUMNS.map(([k]) => h('td', { class: 'n' }, k.startsWith('reply_hours') ? hours(f[k]) : String(f[k])))))));
}

// One concentrated issue, its members (messages) read when opened.
function issueItem(issue) {
  const members = h('ol', { class: 'members' });
  let loaded = false;
  const details = h('details', {},
    h('summary', {}, h('strong', {}, issue.what || '—'),
      ` · ${BY_TEXT[issue.by] || issue.by}${issue.topic ? ` · ${issue.topic}` : ''} · ${issue.count} 条 · `,
      `${formatTime(issue.first_ms)} – ${formatTime(issue.last_ms)}`, issue.active ? '' : ' · 已平息'),
    (issue.examples || []).length ? h('ul', { class: 'examples' }, issue.examples.slice(0, 3).map((e) => h('li', {}, e))) : '',
    h('p', { class: 'muted' }, `成员消息 ${(issue.members || []).length} 条（显示前 20 条）：`), members);
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    replace(members, '读取中…');
    const rows = await Promise.all((issue.members || []).slice(0, 20).map(async (key) => {
      try {
        const m = await api.get(`/api/v1/messages/${encodeURIComponent(key)}`);
        const text = Object.values(m.text || {}).join(' ');
        return h('li', {}, h('span', { class: 'when' }, formatTime(m.time_ms)), ' ', h('a', { href: `#/mailbox?tab=cases&case=${encodeURIComponent(m.id)}` }, m.title || m.id),
          ' ', h('span', { class: 'muted' }, text.slice(0, 80)));
      } catch (e) {
        return h('li', { class: 'muted' }, `${key}：${e.status === 404 ? '已过保留期' : e.message}`);
      }
    }));
    replace(members, rows.length ? rows : h('li', { class: 'muted' }, '（没有记录成员消息）'));
  });
  return h('li', {}, details);
}

export function issuesList(report) {
  const all = [...(report.concentrated_issues || []), ...(report.same_text_issues || [])];
  if (!all.length) return h('p', { class: 'muted' }, '本期没有集中反映的问题。');
  return h('ul', { class: 'issues' }, all.map(issueItem));
}

// reportPanel({from, to}) with from/to as API parameters (an age like 30d, or ms).
export function reportPanel(period) {
  const out = h('div', { class: 'report-out' });
  async function fetchFile(format) {
    try {
      const text = await api.getText('/api/v1/report', { ...period, format });
      download(text, `留言办理报告-${period.label}.${format}`, format === 'csv' ? 'text/csv;charset=utf-8' : 'text/markdown;charset=utf-8');
    } catch (e) {
      toast(`下载失败：${e.message}`, 'error');
    }
  }
  const buttons = h('div', { class: 'row-controls' },
    h('button', { type: 'button', onclick: () => fetchFile('csv') }, '下载 CSV'),
    h('button', { type: 'button', onclick: () => fetchFile('md') }, '下载 Markdown'));
  (async () => {
    replace(out, '读取报告…');
    try {
      const r = await api.get('/api/v1/report', { from: period.from, to: period.to });
      replace(out,
        h('p', {}, `收件时间 ${formatTime(Date.parse(r.from))} – ${formatTime(Date.parse(r.to))}，状态截至 ${formatTime(Date.parse(r.at))}。`,
          r.unmatched_replies ? `另有 ${r.unmatched_replies} 条答复找不到原信件。` : ''),
        figuresTable('总计', { 全部: r.total }), figuresTable('按承办单位', r.by_unit),
        figuresTable('按类别', r.by_category), figuresTable('按专题', r.by_topic),
        h('h3', {}, '集中反映问题'), issuesList(r));
    } catch (e) {
      replace(out, h('p', { class: 'error' }, `无法读取报告：${e.message}`));
    }
  })();
  return h('div', {}, buttons, out);
}
