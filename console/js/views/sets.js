// 关键词集: the sets in force with their versions, rules and per-rule hits over 24 h / 7 d;
// the editor of a set (checked as you type), test a text, a backtest, save and reload (for
// analysts and admins only), the version history with diffs, and each rule's precision
// from the analysts' verdicts with the suggested exclusions and 采纳 (sets_precision.js).
// #/sets?set=ID&tab=edit, #/sets?set=ID&tab=precision&period=30d
import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { formatTime } from '../time.js';
import { createEditor, diagnosticText } from './sets_editor.js';
import { sendSetText, untilCompiled } from './sets_http.js';
import { backtestPanel, testPanel } from './sets_trial.js';
import { versionsPanel } from './sets_versions.js';
import { precisionPanel } from './sets_precision.js';

const TABS = [['rules', '规则与命中'], ['precision', '准确率与建议'], ['edit', '编辑与测试'], ['versions', '版本历史']];
const SEVERITY_TEXT = { info: '提示', warning: '一般', critical: '严重' };
const NEW_SET = 'id: NAME\nname: 新关键词集\ntopic: NAME\nrules:\n  - id: R1\n    any: [关键词]\n';

function sum(rules, key) { return rules.reduce((n, r) => n + (r[key] || 0), 0); }

function listTable(sets, details, selected, select) {
  return h('table', { class: 'grid sets-list' },
    h('thead', {}, h('tr', {}, ['关键词集', '专题', '版本', '规则', '命中 24 小时', '命中 7 天', '加载时间'].map((t) => h('th', {}, t)))),
    h('tbody', {}, sets.map((s) => {
      const d = details.get(s.id);
      return h('tr', { class: s.id === selected ? 'selected' : '' },
        h('td', {}, h('a', { href: `#/sets?set=${encodeURIComponent(s.id)}`, onclick: (e) => { e.preventDefault(); select(s.id); } },
          s.name && s.name !== s.id ? `${s.name}（${s.id}）` : s.id)),
        h('td', {}, s.topic), h('td', { class: 'mono' }, s.version),
        h('td', { class: 'n' }, String(s.rules)),
        h('td', { class: 'n' }, d ? String(sum(d.rules, 'hits_24h')) : '…'),
        h('td', { class: 'n' }, d ? String(sum(d.rules, 'hits_7d')) : '…'),
        h('td', {}, formatTime(Date.parse(s.loaded))));
    })));
}

function termsText(r) {
  const parts = [];
  if (r.any.length) parts.push(`任一：${r.any.join('、')}`);
  for (const g of r.all) parts.push(`并含：${g.join('、')}`);
  if (r.none.length) parts.push(`排除：${r.none.join('、')}`);
  if (r.regex) parts.push(`正则：${r.regex}`);
  return parts.join('；');
}

function rulesTable(d) {
  return h('table', { class: 'grid rules' },
    h('thead', {}, h('tr', {}, ['规则', '行', '级别', '关键词', '命中 24 小时', '命中 7 天'].map((t) => h('th', {}, t)))),
    h('tbody', {}, d.rules.map((r) => h('tr', {},
      h('td', {}, h('a', { href: `#/hits?set=${encodeURIComponent(d.id)}&rule=${encodeURIComponent(r.id)}&since=7d` }, r.id)),
      h('td', { class: 'n' }, String(r.line)), h('td', {}, SEVERITY_TEXT[r.severity] || r.severity),
      h('td', { class: 'terms' }, termsText(r)),
      h('td', { class: 'n' }, String(r.hits_24h)), h('td', { class: 'n' }, String(r.hits_7d))))));
}

export function mount(root, ctx) {
  const canEdit = ctx.session.can('sets.reload');
  const listBox = h('div', { class: 'panel' });
  const detail = h('div', { class: 'set-detail' });
  const details = new Map();
  let sets = [];
  let selected = ctx.params.get('set') || '';
  let tab = ctx.params.get('tab') || 'rules';
  let cleanups = [];
  let notice = null;  // the outcome of the last save, shown again after the list reloads
  let applied = null;  // the outcome of the last 采纳, shown again after the list reloads
  let period = ctx.params.get('period') || '';

  replace(root, h('div', { class: 'sets' },
    h('div', { class: 'sets-head' }, h('h2', {}, '关键词集 Keyword sets'),
      canEdit ? h('button', { type: 'button', onclick: newSet }, '新建关键词集') : ''),
    listBox, detail));

  async function loadList(show = true) {
    try {
      sets = (await api.get('/api/v1/keyword-sets')).sets;
    } catch (e) {
      replace(listBox, h('p', { class: 'error' }, `无法读取关键词集：${e.message}`));
      return;
    }
    await Promise.all(sets.map(async (s) => {
      try { details.set(s.id, await api.get(`/api/v1/keyword-sets/${encodeURIComponent(s.id)}`)); } catch (_) { /* shown as … */ }
    }));
    replace(listBox, listTable(sets, details, selected, select));
    if (!show) return;
    if (!selected && sets.length) select(sets[0].id);
    else if (selected) showDetail();
  }

  const writeParams = () => ctx.setParams({ set: selected, tab, period: tab === 'precision' ? period : '' });

  function select(id, nextTab = tab) {
    selected = id;
    tab = nextTab;
    writeParams();
    replace(listBox, listTable(sets, details, selected, select));
    showDetail();
  }

  function showDetail(draft) {
    cleanups.forEach((f) => f());
    cleanups = [];
    const d = details.get(selected);
    const tabs = h('div', { class: 'tabs', role: 'tablist' }, TABS.map(([id, title]) => h('button', {
      type: 'button', role: 'tab', 'aria-selected': String(id === tab), class: id === tab ? 'active' : '',
      onclick: () => select(selected, id),
    }, title)));
    const body = h('div', { class: 'tab-body' });
    replace(detail, h('h3', {}, d ? `${d.name || d.id}（${d.id}）` : selected), tabs, body);
    if (tab === 'rules') replace(body, d ? rulesTable(d) : h('p', { class: 'muted' }, '该关键词集尚未加载。'));
    if (tab === 'edit') editTab(body, d, draft);
    if (tab === 'precision') precisionTab(body, d);
    if (tab === 'versions') {
      const v = versionsPanel({ name: selected, canRollback: canEdit, onChanged: () => { details.clear(); loadList(); } });
      replace(body, v.el);
      v.refresh();
    }
  }

  function precisionTab(body, d) {
    const p = precisionPanel({
      set: selected, canApply: ctx.session.can('suggestions.apply'), period,
      onPeriod: (v) => { period = v; writeParams(); },
      onApplied: (r) => afterApply(r, d ? d.version : ''),
    });
    if (applied) {
      p.notice.className = `apply-state ${applied.kind}`;
      p.notice.textContent = applied.text;
      applied = null;
    }
    replace(body, d ? h('p', { class: 'muted' }, `当前版本 `, h('span', { class: 'mono current-version' }, d.version),
      `，共 ${d.rules.length} 条规则。准确率 = 有效 ÷（有效 + 误报），区间为 95% Wilson 置信区间；待定不计入。`) : '', p.el);
    p.refresh();
  }

  // After 采纳: the list again until the set's version changed (the reload may still run).
  async function afterApply(r, before) {
    for (let i = 0; i < 20; i++) {
      details.clear();
      await loadList(false);
      const now = details.get(selected);
      if (now && now.version !== before) {
        applied = { kind: 'ok', text: `已采纳「${r.applied.text}」（规则 ${r.rule}）：新版本 ${now.version}（原版本 ${before}）` };
        showDetail();
        return;
      }
      if (r.reload && r.reload.ok === false) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    applied = { kind: 'bad', text: `已写入「${r.applied.text}」，但版本未变化：请查看版本历史与守护进程日志` };
    showDetail();
  }

  function editTab(body, d, draft) {
    const editor = createEditor({ text: draft ?? (d ? d.text : ''), readOnly: !canEdit, canCheck: canEdit });
    cleanups.push(() => editor.stop());
    const saveState = h('div', { class: `save-state ${notice ? notice.kind : ''}`, role: 'status', 'aria-live': 'polite' }, notice ? notice.text : '');
    notice = null;
    const parts = [editor.el];
    if (canEdit) {
      parts.push(h('div', { class: 'row-controls' },
        h('button', { type: 'button', class: 'primary', onclick: () => save(editor, d, saveState) }, '保存并重新加载'),
        h('span', { class: 'muted' }, d ? `基于版本 ${d.version}` : '新关键词集'), saveState));
      const bt = backtestPanel(editor.text);
      cleanups.push(() => bt.stop());
      parts.push(h('div', { class: 'trials' }, testPanel(editor.text), bt.el));
    } else {
      parts.push(h('p', { class: 'muted' }, '只读：编辑、测试和保存需要分析员或管理员令牌。'));
    }
    replace(body, parts);
  }

  async function save(editor, d, saveState) {
    saveState.className = 'save-state';
    saveState.textContent = '保存中…';
    try {
      const r = await untilCompiled(() => sendSetText('PUT', `/api/v1/keyword-sets/${encodeURIComponent(selected)}`, editor.text(),
        { params: { base: d ? d.version : '' }, keep: [202, 409, 422] }));
      if (r.status === 422 && r.body.diagnostics) {
        editor.show(r.body);
        saveState.className = 'save-state bad';
        saveState.textContent = `未保存：${r.body.errors} 个错误，运行中的版本保持不变。${diagnosticText(r.body.diagnostics[0])}`;
        return;
      }
      if (r.status >= 400) {
        saveState.className = 'save-state bad';
        saveState.textContent = `未保存：${r.body.error}`;
        return;
      }
      const text = r.status === 202 ? `已写入版本 ${r.body.version}，正在重新加载…` : `已保存并重新加载：版本 ${r.body.version}`;
      saveState.className = 'save-state ok';
      saveState.textContent = text;
      toast(text);
      notice = { kind: 'ok', text };
      details.clear();
      await loadList();
    } catch (e) {
      saveState.className = 'save-state bad';
      saveState.textContent = `保存失败：${e.message}`;
    }
  }

  function newSet() {
    const id = (window.prompt('新关键词集的 id（字母、数字、. _ -）') || '').trim();
    if (!id) return;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) { toast('id 只能由字母、数字、. _ - 组成', 'error'); return; }
    selected = id;
    tab = 'edit';
    writeParams();
    showDetail(NEW_SET.replaceAll('NAME', id));
  }

  loadList();
  return () => cleanups.forEach((f) => f());
}
