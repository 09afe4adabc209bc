// Calls of the keyword-set views whose body is a set file as text (check, save), which the
// JSON helpers of api.js do not send. Answers whose status is in `keep` (a 422 with its
// diagnostics, a 409, a 202 "still compiling") come back as {status, body}; any other
// failure throws ApiError like every call of api.js.
import { ApiError, authHeaders } from '../api.js';

export async function sendSetText(method, path, text, { params = {}, keep = [] } = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const url = path + (q.toString() ? `?${q}` : '');
  let res;
  try {
    res = await fetch(url, {
      method, body: text, cache: 'no-store',
      headers: authHeaders({ 'Content-Type': 'text/yaml; charset=utf-8' }),
    });
  } catch (e) {
    throw new ApiError(0, '');
  }
  const raw = await res.text();
  let body = null;
  try { body = raw ? JSON.parse(raw) : null; } catch (_) { body = { error: raw }; }
  if (res.ok || keep.includes(res.status)) return { status: res.status, body };
  if (res.status === 401) window.dispatchEvent(new CustomEvent('yuqing:unauthorized'));
  throw new ApiError(res.status, (body && body.error) || raw);
}

// Sends again while the daemon answers 202 "compiling" (a big set's first compile), at
// most `tries` times, a second apart.
export async function untilCompiled(send, tries = 30) {
  for (let i = 0; ; i++) {
    const r = await send();
    if (!(r.status === 202 && r.body && r.body.state === 'compiling') || i >= tries) return r;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
