// The daemon's public HTTP API, for every view: fetch with the bearer token of this
// browser session, JSON in and out, errors as ApiError with a message in Chinese.
// The token lives in sessionStorage only (never in the URL, never in localStorage).

const TOKEN_KEY = 'yuqing.token';

export function getToken() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(token) { sessionStorage.setItem(TOKEN_KEY, token); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

const STATUS_TEXT = {
  0: '无法连接到守护进程（网络中断或服务已停止）',
  400: '请求参数有误',
  401: '需要登录：令牌缺失或无效',
  403: '当前角色无权执行此操作',
  404: '未找到',
  405: '不支持的请求方法',
  409: '状态冲突',
  413: '请求内容过大',
  421: '主机名不被允许（http.allowed_hosts）',
  500: '服务内部错误',
  503: '服务暂不可用',
};

// An HTTP failure: status (0: no connection), message (Chinese, for people), detail
// (the daemon's own words, shown beside it).
export class ApiError extends Error {
  constructor(status, detail) {
    const base = STATUS_TEXT[status] || (status >= 500 ? '服务错误' : '请求失败');
    super(detail ? `${base}：${detail}` : base);
    this.status = status;
    this.detail = detail || '';
  }
}

// Headers of every call: the token when signed in, and JSON.
export function authHeaders(extra = {}) {
  const headers = { Accept: 'application/json', ...extra };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function call(method, path, { params, body, text = false, signal } = {}) {
  let res;
  try {
    res = await fetch(path + query(params), {
      method,
      headers: authHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, '');
  }
  const raw = await res.text();
  if (!res.ok) {
    let detail = raw;
    try { detail = JSON.parse(raw).error || raw; } catch (_) { /* not JSON */ }
    const err = new ApiError(res.status, detail);
    if (res.status === 401) window.dispatchEvent(new CustomEvent('yuqing:unauthorized'));
    throw err;
  }
  if (text) return raw;
  return raw ? JSON.parse(raw) : null;
}

export const api = {
  get: (path, params, opts = {}) => call('GET', path, { ...opts, params }),
  getText: (path, params, opts = {}) => call('GET', path, { ...opts, params, text: true }),
  post: (path, body, opts = {}) => call('POST', path, { ...opts, body }),
};
