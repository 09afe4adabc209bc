// Trying an edited set before saving it: "test a text" (POST /api/v1/test with the edited
// set, hits highlighted) and a backtest against the stored messages (POST /api/v1/backtest,
// then its progress until the per-rule gained/lost diff with examples).
import { api } from '../api.js';
import { h, highlightBracketed, highlightBytes, replace } from '../dom.js';
import { formatTime } from '../time.js';

const SEVERITY_TEXT = { info: '提示', warning: '一般', critical: '严重' };

function hitsView(text, hits) {
  if (!hits.length) return h('p', { class: 'muted' }, '没有命中。');
  const spans = hits.flatMap((x) => x.spans.filter((s) => s.field === 'text'));
  return h('div', {},
    h('p', { class: 'sample' }, highlightBytes(text, spans)),
    h('ul', { class: 'hit-rules' }, hits.map((x) => h('li', {},
      `规则 ${x.rule}（${SEVERITY_TEXT[x.severity] || x.severity}）：`,
      x.spans.map((s) => h('mark', {}, s.text)).flatMap((m, i) => (i ? ['、', m] : [m]))))));
}

// "测试文本": a text matched against the set in the editor.
export function testPanel(getSetText) {
  const input = h('textarea', { class: 'sample-input', rows: 3, 'aria-label': '测试文本', placeholder: '输入一段文字，例如：江门出现疫情' });
  const out = h('div', { class: 'test-out', role: 'status', 'aria-live': 'polite' });
  async function run() {
    replace(out, '匹配中…');
    try {
      let r;
      for (let i = 0; i < 30; i++) {
        r = await api.post('/api/v1/test', { text: input.value, set: getSetText() });
        if (r.state !== 'compiling') break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      replace(out, hitsView(input.value, r.hits || []));
    } catch (e) {
      replace(out, h('p', { class: 'error' }, `测试失败：${e.message}`));
    }
  }
  return h('section', { class: 'panel trial', 'aria-label': '测试文本' },
    h('h3', {}, '测试文本 Test a text'), input,
    h('div', {}, h('button', { type: 'button', class: 'primary', onclick: run }, '测试')), out);
}

function examplesList(rule, sign, examples) {
  return examples.map((e) => h('li', { class: sign === '+' ? 'gained' : 'lost' },
    h('span', { class: 'sign' }, sign === '+' ? '新增' : '减少'), ` ${rule} · ${e.time ? formatTime(Date.parse(e.time)) : ''} · `,
    h('span', { class: 'excerpt' }, highlightBracketed(e.text))));
}

function reportView(r) {
  const head = h('p', {}, `${r.messages_in_period} 条消息（自 ${formatTime(Date.parse(r.since))} 起，库中共 ${r.messages_scanned} 条）：` +
    `命中 ${r.hits_running} → ${r.hits_candidate}`, r.running_version ? '' : '（新关键词集）');
  const rows = r.rules.map((c) => h('tr', { class: c.added || c.removed ? 'changed' : '' },
    h('td', {}, c.rule), h('td', { class: 'n gained' }, c.added ? `+${c.added}` : '0'),
    h('td', { class: 'n lost' }, c.removed ? `−${c.removed}` : '0'), h('td', { class: 'n' }, String(c.kept))));
  const table = h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, '规则'), h('th', {}, '新增命中'), h('th', {}, '减少命中'), h('th', {}, '不变'))),
    h('tbody', {}, rows));
  const examples = r.rules.flatMap((c) => [...examplesList(c.rule, '+', c.added_examples || []), ...examplesList(c.rule, '-', c.removed_examples || [])]);
  return h('div', { class: 'backtest-report' }, head, table,
    examples.length ? h('ul', { class: 'examples' }, examples) : h('p', { class: 'muted' }, '没有变化的例子。'));
}

// "回测": the edited set against the stored messages of a period.
export function backtestPanel(getSetText) {
  const since = h('select', { 'aria-label': '回测时段' },
    [['1d', '近1天'], ['7d', '近7天'], ['30d', '近30天']].map(([v, t]) => h('option', { value: v, selected: v === '7d' }, t)));
  const bar = h('progress', { max: 1, value: 0, 'aria-label': '回测进度' });
  const label = h('span', { class: 'progress-text', role: 'status', 'aria-live': 'polite' });
  const out = h('div');
  const button = h('button', { type: 'button', class: 'primary' }, '开始回测');
  let stopped = false;

  async function start() {
    button.disabled = true;
    replace(out);
    bar.value = 0;
    label.textContent = '提交中…';
    try {
      let job;
      for (let i = 0; i < 60; i++) {
        job = await api.post('/api/v1/backtest', { set: getSetText(), since: since.value, examples: 3 });
        if (job.state !== 'compiling') break;
        label.textContent = '编译中…';
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await follow(job.id);
    } catch (e) {
      label.textContent = '';
      replace(out, h('p', { class: 'error' }, `回测失败：${e.message}`));
    } finally {
      button.disabled = false;
    }
  }

  async function follow(id) {
    for (;;) {
      const j = await api.get(`/api/v1/backtest/${encodeURIComponent(id)}`);
      const { scanned, estimated_total: total } = j.progress;
      // RocksDB's total is an estimate: a finished scan fills the bar.
      bar.max = j.state === 'done' ? Math.max(scanned, 1) : Math.max(total, scanned, 1);
      bar.value = scanned;
      label.textContent = `${j.state === 'running' ? '回测中' : '完成'}：已扫描 ${scanned} / 约 ${total} 条`;
      if (j.state !== 'running' || stopped) {
        if (j.state === 'done') replace(out, reportView(j.report));
        else if (j.state !== 'running') replace(out, h('p', { class: 'error' }, `回测${j.state === 'cancelled' ? '已取消' : '失败'}：${j.error || ''}`));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  button.addEventListener('click', start);
  const el = h('section', { class: 'panel trial', 'aria-label': '回测' },
    h('h3', {}, '回测 Backtest'),
    h('p', { class: 'muted' }, '用编辑中的关键词集重新匹配已存储的消息，与运行中的版本逐条规则比较。'),
    h('div', { class: 'row-controls' }, since, button, bar, label), out);
  return { el, stop() { stopped = true; } };
}
