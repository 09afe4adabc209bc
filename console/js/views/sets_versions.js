// A set's version history (GET .../NAME/versions): who saved each and when, its text, a
// line diff between any two (GET .../NAME/diff, made by the daemon) and, for analysts, a
// rollback (POST .../NAME/rollback: the old text saved again as the newest version).
import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { formatTime } from '../time.js';

// The unified diff as lines coloured by their first character.
export function diffView(unified) {
  if (!unified) return h('p', { class: 'muted' }, '两个版本内容相同。');
  const kind = (line) => (line.startsWith('@@') ? 'hunk' : line.startsWith('+++') || line.startsWith('---') ? 'file'
    : line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : 'same');
  return h('pre', { class: 'diff', 'aria-label': '版本差异' },
    unified.replace(/\n$/, '').split('\n').map((line) => h('div', { class: kind(line) }, line || ' ')));
}

function whoText(v) {
  if (v.who) return v.who;
  if (v.trigger === 'startup') return '启动时加载';
  if (v.trigger === 'inotify') return '文件改动';
  return v.trigger || '—';
}

// versionsPanel({name, canRollback, onChanged}) -> {el, refresh()}
export function versionsPanel({ name, canRollback, onChanged }) {
  const body = h('div');
  const out = h('div', { class: 'version-out' });
  let versions = [];

  function table() {
    const n = versions.length;
    return h('table', { class: 'grid versions' },
      h('thead', {}, h('tr', {}, ['#', '版本', '时间', '保存人 / 来源', '规则数', '对比自', '对比到', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, versions.map((v, i) => h('tr', { class: v.in_force ? 'in-force' : '' },
        h('td', {}, String(v.number), v.in_force ? h('span', { class: 'badge' }, '运行中') : ''),
        h('td', { class: 'mono' }, v.version), h('td', {}, formatTime(v.time_ms)), h('td', {}, whoText(v)),
        h('td', { class: 'n' }, String(v.rules)),
        h('td', {}, h('input', { type: 'radio', name: `from-${name}`, value: String(v.number), checked: i === Math.min(1, n - 1), 'aria-label': `从版本 ${v.number} 对比` })),
        h('td', {}, h('input', { type: 'radio', name: `to-${name}`, value: String(v.number), checked: i === 0, 'aria-label': `对比到版本 ${v.number}` })),
        h('td', {}, h('button', { type: 'button', onclick: () => showText(v) }, '查看'),
          canRollback && !v.in_force ? h('button', { type: 'button', onclick: () => rollback(v) }, '回滚到此版本') : '')))));
  }

  async function refresh() {
    try {
      const r = await api.get(`/api/v1/keyword-sets/${encodeURIComponent(name)}/versions`);
      versions = r.versions;
      replace(body, table(), h('button', { type: 'button', class: 'primary', onclick: compare }, '对比所选版本'));
    } catch (e) {
      replace(body, h('p', { class: 'error' }, `无法读取版本：${e.message}`));
    }
  }

  async function compare() {
    const pick = (which) => (body.querySelector(`input[name="${which}-${name}"]:checked`) || {}).value;
    const from = pick('from');
    const to = pick('to');
    if (!from || !to) return;
    try {
      const d = await api.get(`/api/v1/keyword-sets/${encodeURIComponent(name)}/diff`, { from, to });
      replace(out, h('h4', {}, `版本 #${from} → #${to}：+${d.added} 行，−${d.removed} 行`), diffView(d.unified));
    } catch (e) {
      replace(out, h('p', { class: 'error' }, `无法对比：${e.message}`));
    }
  }

  async function showText(v) {
    try {
      const r = await api.get(`/api/v1/keyword-sets/${encodeURIComponent(name)}/versions/${v.number}`);
      replace(out, h('h4', {}, `版本 #${v.number}（${v.version}）`), h('pre', { class: 'code-view' }, r.text));
    } catch (e) {
      replace(out, h('p', { class: 'error' }, `无法读取版本 #${v.number}：${e.message}`));
    }
  }

  async function rollback(v) {
    if (!window.confirm(`把关键词集 ${name} 回滚到版本 #${v.number}（${v.version}）并重新加载？`)) return;
    try {
      let r;
      for (let i = 0; i < 30; i++) {
        r = await api.post(`/api/v1/keyword-sets/${encodeURIComponent(name)}/rollback`, { version: String(v.number) });
        if (r.state !== 'compiling') break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      toast(r.state === 'reloading' ? '已写入，正在重新加载' : `已回滚到版本 #${v.number}，已重新加载`);
      await refresh();
      onChanged();
    } catch (e) {
      toast(`回滚失败：${e.message}`, 'error');
    }
  }

  const el = h('section', { class: 'panel', 'aria-label': '版本历史' }, h('h3', {}, '版本历史 Versions'), body, out);
  return { el, refresh };
}
