// Start of the console: the daemon's time offset, who is signed in, then the view of the
// URL. A 401 anywhere (token removed or changed on the daemon) returns to sign-in.
import { api, clearToken, getToken } from './api.js';
import { h, replace, toast } from './dom.js';
import { ROLE_TEXT } from './labels.js';
import { createRouter, hrefOf, parseHash } from './router.js';
import { session, whoami } from './session.js';
import { setOffset, zoneName } from './time.js';
import { VIEWS } from './views/index.js';
import { mountSignin } from './views/signin.js';

const root = document.getElementById('view');
let router = null;

function renderChrome() {
  const nav = document.getElementById('nav');
  const current = parseHash().name;
  replace(nav, VIEWS.map((v) => h('a', {
    href: hrefOf(v.name),
    class: v.name === current ? 'active' : '',
    'aria-current': v.name === current ? 'page' : undefined,
  }, v.title)));
  const who = document.getElementById('who');
  const role = ROLE_TEXT[session.role] || session.role;
  who.textContent = session.tokens
    ? `${session.name || '共享令牌'}${session.unit ? `（${session.unit}）` : ''} · ${role}`
    : '未配置令牌：只读';
  who.title = `时间按 ${zoneName()} 显示`;
  const out = document.getElementById('signout');
  out.hidden = !session.tokens;
}

function onView(view) {
  document.body.classList.toggle('no-chrome', view.chrome === false);
  renderChrome();
}

async function start() {
  try {
    const status = await api.get('/api/v1/status');
    setOffset(status.utc_offset_minutes ?? 480);
  } catch (e) {
    replace(root, h('p', { class: 'error' }, `无法读取守护进程状态：${e.message}`));
    setTimeout(start, 3000);
    return;
  }
  try {
    await whoami();
  } catch (e) {
    if (e.status === 401) return showSignin(getToken() ? '令牌无效或已停用，请重新输入。' : '');
    replace(root, h('p', { class: 'error' }, `无法确认身份：${e.message}`));
    setTimeout(start, 3000);
    return;
  }
  if (!router) router = createRouter({ root, session, onView });
  await router.show();
}

function showSignin(message) {
  if (router) router.stop();
  document.body.classList.remove('no-chrome');
  document.getElementById('who').textContent = '';
  document.getElementById('signout').hidden = true;
  replace(document.getElementById('nav'));
  mountSignin(root, { message, onSignedIn: start });
}

document.getElementById('signout').addEventListener('click', () => {
  clearToken();
  location.reload();
});
window.addEventListener('yuqing:unauthorized', () => {
  if (!document.querySelector('.view-signin')) {
    // Only a token that was held can have lapsed (a first visit has none: just sign in).
    if (getToken()) toast('登录已失效，请重新输入令牌', 'error');
    showSignin('登录已失效，请重新输入令牌。');
  }
});
window.addEventListener('hashchange', renderChrome);

start();
