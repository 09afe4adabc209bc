// Sign-in: the person pastes their own token (http.people) or the shared one. It is kept
// in sessionStorage for this browser tab only and checked with GET /api/v1/whoami.
import { clearToken, setToken } from '../api.js';
import { h, replace } from '../dom.js';
import { whoami } from '../session.js';

export function mountSignin(root, { message = '', onSignedIn }) {
  const input = h('input', {
    id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message);
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, '登录舆情监测控制台'),
    h('p', {}, '请粘贴您的个人访问令牌（由管理员在 http.people 中配置）。令牌只保存在本浏览器标签页中，关闭即清除。'),
    h('label', { for: 'token' }, '访问令牌 Token'),
    input,
    error,
    h('button', { type: 'submit', class: 'primary' }, '登录'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    setToken(token);
    try {
      await whoami();
      onSignedIn();
    } catch (e) {
      clearToken();
      error.textContent = e.status === 401 ? '令牌无效，请检查后重试。' : e.message;
      input.select();
    }
  });
  const section = h('section', { class: 'view view-signin' }, form);
  replace(root, section);
  input.focus();
}
