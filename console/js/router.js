// The URL hash names the view and its parameters: #/alerts?level=red&q=疫情. Each view is
// a bookmark; changing the hash mounts another view (the previous one cleaned up).
import { VIEWS } from './views/index.js';

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const name = decodeURIComponent(q < 0 ? raw : raw.slice(0, q)) || VIEWS[0].name;
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { name, params };
}

export function hrefOf(name, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return `#/${name}${s ? `?${s}` : ''}`;
}

export function createRouter({ root, session, onView }) {
  let cleanup = null;
  let token = 0;

  async function show() {
    const { name, params } = parseHash();
    const view = VIEWS.find((v) => v.name === name);
    const mine = ++token;
    if (typeof cleanup === 'function') cleanup();
    cleanup = null;
    const section = document.createElement('section');
    section.className = `view view-${name}`;
    root.replaceChildren(section);
    if (!view) {
      section.textContent = `没有这个视图：${name}`;
      return;
    }
    onView(view);
    const mod = await view.load();
    if (mine !== token) return;  // another view was asked for meanwhile
    const ctx = {
      params,
      session,
      navigate: (n, p) => { location.hash = hrefOf(n, p); },
      setParams(obj) {
        const next = new URLSearchParams();
        for (const [k, v] of Object.entries(obj)) if (v !== '' && v !== undefined && v !== null) next.set(k, v);
        history.replaceState(null, '', hrefOf(name, Object.fromEntries(next)));
      },
    };
    cleanup = mod.mount(section, ctx) || null;
  }

  // Unmounts the current view (its streams and timers stop), e.g. for the sign-in page.
  function stop() {
    token++;
    if (typeof cleanup === 'function') cleanup();
    cleanup = null;
  }

  let stopped = false;
  window.addEventListener('hashchange', () => { if (!stopped) show(); });
  return {
    show() { stopped = false; return show(); },
    stop() { stopped = true; stop(); },
  };
}
