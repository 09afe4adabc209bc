// 简报: the daily and weekly 舆情简报 kept by the daemon (GET /api/v1/briefings), one opened
// as its Markdown shown as text (GET /api/v1/briefings/ID?format=md), the downloads as
// HTML (A4, for printing), Markdown and JSON made by the daemon, and making one now for a
// date (POST /api/v1/briefings, admin token).
// #/briefings?id=daily-2022-11-21
import { api } from '../api.js';
import { download, h, replace, toast } from '../dom.js';

const TYPES = { md: 'text/markdown;charset=utf-8', html: 'text/html;charset=utf-8', json: 'application/json' };
const KIND_TEXT = { daily: '日报', weekly: '周报' };

function deliveries(b) {
  const entries = Object.entries(b.deliveries || {});
  if (!entries.length) return '';
  return h('p', { class: 'muted' }, '推送：', entries.map(([r, outcome], i) => `${i ? '，' : ''}${r} ${outcome === 'ok' ? '已送达' : outcome === 'pending' ? '待发送' : `失败（${outcome}）`}`));
}

export function mount(root, ctx) {
  const list = h('ul', { class: 'briefing-list' });
  const detail = h('div', { class: 'briefing-detail' }, h('p', { class: 'muted' }, '选择左侧的一份简报。'));
  const kind = h('select', { 'aria-label': '简报类型' }, h('option', { value: 'daily' }, '日报'), h('option', { value: 'weekly' }, '周报'));
  const date = h('input', { type: 'date', 'aria-label': '日期', required: true });
  const make = h('form', { class: 'row-controls' }, kind, date, h('button', { type: 'submit' }, '立即生成'));
  make.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!date.value) { toast('请选择日期', 'error'); return; }
    try {
      const b = await api.post('/api/v1/briefings', { kind: kind.value, date: date.value });
      toast(`已生成：${b.title}`);
      await load();
      ctx.setParams({ id: b.id });
      open(b.id);
    } catch (e) {
      toast(`生成失败：${e.message}`, 'error');
    }
  });

  async function open(id) {
    replace(detail, '读取中…');
    try {
      const md = await api.getText(`/api/v1/briefings/${encodeURIComponent(id)}`, { format: 'md' });
      const fetchFile = async (format) => {
        try {
          const text = await api.getText(`/api/v1/briefings/${encodeURIComponent(id)}`, { format });
          download(text, `${id}.${format}`, TYPES[format]);
        } catch (e) {
          toast(`下载失败：${e.message}`, 'error');
        }
      };
      replace(detail,
        h('div', { class: 'row-controls' },
          h('button', { type: 'button', onclick: () => fetchFile('html') }, '下载 HTML（可打印 A4）'),
          h('button', { type: 'button', onclick: () => fetchFile('md') }, '下载 Markdown'),
          h('button', { type: 'button', onclick: () => fetchFile('json') }, '下载 JSON')),
        h('pre', { class: 'briefing-md', 'aria-label': '简报正文' }, md));
    } catch (e) {
      replace(detail, h('p', { class: 'error' }, `无法读取简报：${e.message}`));
    }
  }

  async function load() {
    try {
      const r = await api.get('/api/v1/briefings', { limit: 200 });
      if (!r.briefings.length) {
        replace(list, h('li', { class: 'muted' }, '还没有简报（按计划每日、每周一生成，或在上方立即生成）。'));
        return;
      }
      replace(list, r.briefings.map((b) => h('li', {},
        h('a', { href: `#/briefings?id=${encodeURIComponent(b.id)}`, 'data-id': b.id,
          onclick: (ev) => { ev.preventDefault(); ctx.setParams({ id: b.id }); open(b.id); } },
        h('strong', {}, `${KIND_TEXT[b.kind] || b.kind}`), ' ', b.title),
        h('div', { class: 'muted' }, `生成于 ${b.generated}`), deliveries(b))));
    } catch (e) {
      replace(list, h('li', { class: 'error' }, `无法读取简报列表：${e.message}`));
    }
  }

  replace(root, h('h2', {}, '舆情简报'), make,
    h('div', { class: 'briefings' }, h('nav', { 'aria-label': '简报列表' }, list), detail));
  load().then(() => { if (ctx.params.get('id')) open(ctx.params.get('id')); });
  return () => {};
}
