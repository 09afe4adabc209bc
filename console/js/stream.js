// Server-sent events over fetch (EventSource cannot send the bearer token): parses
// "id:/event:/data:" frames, reconnects by itself with the Last-Event-ID of the last
// event seen (the daemon resumes the stream or, after a restart, sends a fresh
// "snapshot" event), and treats 40 s without a byte (the daemon sends a comment every
// 15 s) as a dead connection.
import { authHeaders } from './api.js';

const SILENCE_MS = 40000;

// One frame ("id: ...\nevent: ...\ndata: ...") as {name, id, data} (null: absent).
export function parseFrame(frame) {
  let name = 'message';
  let id = null;
  const data = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return { name, id, data: data.length ? data.join('\n') : null };
}

// onEvent(name, data, id); onState('connecting' | 'open' | 'closed' | 'unauthorized').
export function openStream(path, { onEvent, onState = () => {} }) {
  let lastId = '';
  let stopped = false;
  let controller = null;
  let retryMs = 500;
  let silence = null;

  const armSilence = () => {
    clearTimeout(silence);
    silence = setTimeout(() => controller && controller.abort(), SILENCE_MS);
  };

  const dispatch = (frame) => {
    const { name, id, data } = parseFrame(frame);
    if (id !== null) lastId = id;
    if (data !== null) onEvent(name, data, id);
  };

  async function readOnce() {
    controller = new AbortController();
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (lastId) headers['Last-Event-ID'] = lastId;
    onState('connecting');
    const res = await fetch(path, { headers, signal: controller.signal, cache: 'no-store' });
    if (res.status === 401) {
      window.dispatchEvent(new CustomEvent('yuqing:unauthorized'));
      onState('unauthorized');
      stopped = true;
      return;
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    onState('open');
    retryMs = 500;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    armSilence();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      armSilence();
      // A snapshot of 10,000 alerts is one frame of megabytes: look for its end only in
      // what just arrived (and the character before), not the whole buffer each time.
      let from = Math.max(0, buffer.length - 1);
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n', from)) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        from = 0;
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await readOnce();
      } catch (_) { /* closed, aborted or refused: retry below */ }
      clearTimeout(silence);
      if (stopped) break;
      onState('closed');
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, 5000);
    }
  })();

  return {
    close() {
      stopped = true;
      clearTimeout(silence);
      if (controller) controller.abort();
    },
  };
}
