// The console's views. A view is a module in this folder exporting
//   mount(root, ctx) -> optional cleanup function
// where root is an empty <section> and ctx = {params, setParams, session, navigate}
// (params: URLSearchParams of the hash, e.g. #/alerts?level=red; setParams(obj) writes
// them back to the URL without remounting, so every state worth sharing is a link).
// To add a view: one line below; chrome: false hides the top bar (wall screens).
export const VIEWS = [
  { name: 'alerts', title: '值班台', load: () => import('./alerts.js') },
  { name: 'wall', title: '大屏', load: () => import('./wall.js'), chrome: false },
  { name: 'mailbox', title: '政府信箱', load: () => import('./mailbox.js') },
  { name: 'sets', title: '关键词集', load: () => import('./sets.js') },
  { name: 'hits', title: '命中检索', load: () => import('./hits.js') },
  { name: 'risk', title: '风险研判', load: () => import('./risk.js') },
  { name: 'briefings', title: '简报', load: () => import('./briefings.js') },
];
