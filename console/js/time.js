// Times as people read them: in the daemon's configured UTC offset (GET /api/v1/status,
// utc_offset_minutes, the mailbox's offset), not the browser's. Set once at start.

let offsetMinutes = 480;

export function setOffset(minutes) { offsetMinutes = Number(minutes) || 0; }
export function offset() { return offsetMinutes; }

const pad = (n, w = 2) => String(n).padStart(w, '0');

// The fields of ms at the configured offset (a Date read in UTC).
function shifted(ms) { return new Date(ms + offsetMinutes * 60000); }

export function zoneName() {
  const m = Math.abs(offsetMinutes);
  return `UTC${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

// "2026-12-02 09:40:05"
export function formatTime(ms) {
  if (!ms) return '—';
  const d = shifted(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// "09:40" today, else "12-01 09:40".
export function formatShort(ms, now = Date.now()) {
  if (!ms) return '—';
  const d = shifted(ms);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (dayStart(ms) === dayStart(now)) return hm;
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}`;
}

// Start (epoch ms) of the local day that holds ms.
export function dayStart(ms) {
  const day = 86400000;
  const local = ms + offsetMinutes * 60000;
  return Math.floor(local / day) * day - offsetMinutes * 60000;
}

// Local hour 0..23 of ms.
export function hourOf(ms) { return shifted(ms).getUTCHours(); }

// A duration as "2时05分", "5分12秒", "12秒"; negative: "超时 5分12秒".
export function formatDuration(ms) {
  const late = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  let text;
  if (d > 0) text = `${d}天${pad(h)}时`;
  else if (h > 0) text = `${h}时${pad(m)}分`;
  else if (m > 0) text = `${m}分${pad(s)}秒`;
  else text = `${s}秒`;
  return late ? `超时 ${text}` : text;
}
