// Alerts as the console holds them: the snapshot and the events of the alert stream,
// kept by id (state derived from the daemon, never kept twice), and the pure functions
// the views share: filter, sort, group, clocks. With 10,000 alerts a filter change must
// draw within 200 ms: the store keeps an index (every alert sorted once, and by level,
// topic and unit) built at a snapshot and kept up to date alert by alert, and view()
// filters the smallest list of the index that the filters allow.
import { LEVEL_RANK, LEVEL_TEXT, STATE_TEXT } from './labels.js';

const STATE_RANK = { open: 0, acknowledged: 1, handled: 2, closed: 3 };

export class AlertStore {
  constructor() {
    this.byId = new Map();
    this.version = 0;  // bumps at every change
  }
  // A snapshot (the alerts not closed when the stream connected) replaces what was held,
  // but keeps closed ones seen (they are no longer in snapshots).
  replace(alerts) {
    const kept = [...this.byId.values()].filter((a) => a.state === 'closed');
    this.byId = new Map(kept.map((a) => [a.id, a]));
    for (const a of alerts) this.byId.set(a.id, a);
    this.version++;
    this._index = null;  // built again at the next index()
  }
  upsert(alert) {
    const had = this.byId.get(alert.id);
    this.byId.set(alert.id, alert);
    this.version++;
    if (this._index) this.reindex(had, alert);
    return had;
  }
  get(id) { return this.byId.get(id); }
  all() { return [...this.byId.values()]; }

  // {sorted, byLevel, byTopic, byUnit, topics, units} of the alerts held, most urgent
  // first in every list; built once after a snapshot, then kept by upsert() (a filter
  // change reuses it).
  index() {
    if (this._index && this._index.version === this.version) return this._index;
    const sorted = [...this.byId.values()].sort(compare);
    const byLevel = new Map();
    const byTopic = new Map();
    const byUnit = new Map();
    const add = (map, key, a) => { const list = map.get(key); if (list) list.push(a); else map.set(key, [a]); };
    for (const a of sorted) {
      add(byLevel, a.level, a);
      add(byTopic, topicOf(a), a);
      for (const u of unitsOf(a)) add(byUnit, u, a);
    }
    this._index = {
      version: this.version, sorted, byLevel, byTopic, byUnit,
      topics: [...byTopic.keys()].sort(), units: [...byUnit.keys()].sort(),
    };
    return this._index;
  }

  // One alert changed: the index follows without sorting again (the old object leaves
  // each list at its place, the new one is inserted at its own; a binary search each).
  reindex(old, a) {
    const ix = this._index;
    const lists = (x) => [[ix.byLevel, x.level], [ix.byTopic, topicOf(x)], ...unitsOf(x).map((u) => [ix.byUnit, u])];
    let keysChanged = false;
    if (old) {
      remove(ix.sorted, old);
      for (const [map, key] of lists(old)) {
        const list = map.get(key);
        if (!list) continue;
        remove(list, old);
        if (!list.length) { map.delete(key); keysChanged = true; }
      }
    }
    insert(ix.sorted, a);
    for (const [map, key] of lists(a)) {
      const list = map.get(key);
      if (list) insert(list, a);
      else { map.set(key, [a]); keysChanged = true; }
    }
    if (keysChanged) {
      ix.topics = [...ix.byTopic.keys()].sort();
      ix.units = [...ix.byUnit.keys()].sort();
    }
    ix.version = this.version;
  }

  // The alerts the filters let through, most urgent first: the smallest list of the index
  // that the level, topic and unit filters allow, then every filter on each of its alerts.
  // The last answer is kept until the filters or the alerts change.
  view(f) {
    const ix = this.index();
    const key = `${ix.version}\n${f.level}\n${f.state}\n${f.topic}\n${f.unit}\n${f.q}`;
    if (this._view && this._view.key === key) return this._view.alerts;
    let from = ix.sorted;
    const narrow = (list) => { if (list.length < from.length) from = list; };
    if (f.level) narrow(ix.byLevel.get(f.level) || []);
    if (f.topic) narrow(ix.byTopic.get(f.topic) || []);
    if (f.unit) narrow(ix.byUnit.get(f.unit) || []);
    const words = f.q ? f.q.toLowerCase().split(/\s+/).filter(Boolean) : [];  // once, not per alert
    const alerts = from.filter((a) => matches(a, f, words));
    this._view = { key, alerts };
    return alerts;
  }
}

// The first place in a sorted list where x belongs (compare is a total order: the id decides last).
function lowerBound(list, x) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(list[mid], x) < 0) lo = mid + 1; else hi = mid;
  }
  return lo;
}
function insert(list, x) { list.splice(lowerBound(list, x), 0, x); }
function remove(list, x) {
  const i = lowerBound(list, x);
  if (list[i] === x) { list.splice(i, 1); return; }
  const j = list.indexOf(x);  // not where it sorts (should not happen): found by scanning
  if (j >= 0) list.splice(j, 1);
}

export function unitOf(a) {
  return (a.lead_units && a.lead_units[0]) || (a.labels && a.labels.unit) || '未指定单位';
}

export function topicOf(a) { return a.set_name || a.topic || '未分类'; }

// Every unit a unit filter finds the alert by: lead, cooperating, or 未指定单位.
export function unitsOf(a) {
  return [...new Set([unitOf(a), ...(a.lead_units || []), ...(a.cooperating_units || [])])];
}

// The lower-cased text a search looks through.
function haystack(a) {
  if (!a._hay) {
    a._hay = [a.id, a.summary, a.topic, a.set_name, a.kind, a.alert_rule, a.keyword_rule, a.plan_text,
      ...(a.lead_units || []), ...(a.cooperating_units || []),
      ...(a.examples || []).flatMap((e) => [e.text, e.author, e.rule])].join('\n').toLowerCase();
  }
  return a._hay;
}

// Builds the search text of every alert ahead of the first search, in idle slices.
export function warmSearch(alerts) {
  let i = 0;
  const step = (deadline) => {
    while (i < alerts.length && (!deadline || deadline.timeRemaining() > 2)) haystack(alerts[i++]);
    if (i < alerts.length) (window.requestIdleCallback || setTimeout)(step);
  };
  (window.requestIdleCallback || setTimeout)(step);
}

// filters: {level, state ('' = not closed, 'all'), topic, unit, q}; words: q's lower-cased
// words when the caller has split them already.
export function matches(a, f, words = null) {
  if (f.level && a.level !== f.level) return false;
  if (f.state === '' || f.state === undefined) { if (a.state === 'closed') return false; }
  else if (f.state !== 'all' && a.state !== f.state) return false;
  if (f.topic && topicOf(a) !== f.topic) return false;
  if (f.unit && !(a.lead_units || []).includes(f.unit) && !(a.cooperating_units || []).includes(f.unit) &&
      unitOf(a) !== f.unit) return false;
  if (f.q) {
    const hay = haystack(a);
    for (const word of words || f.q.toLowerCase().split(/\s+/)) if (word && !hay.includes(word)) return false;
  }
  return true;
}

// Most urgent first: level, state (open first), the nearest response deadline, newest.
export function compare(a, b) {
  return (LEVEL_RANK[a.level] ?? 9) - (LEVEL_RANK[b.level] ?? 9) ||
    (STATE_RANK[a.state] ?? 9) - (STATE_RANK[b.state] ?? 9) ||
    (deadline(a) || Infinity) - (deadline(b) || Infinity) ||
    (b.fired_ms || 0) - (a.fired_ms || 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// Groups [{key, title, alerts}] by 'level', 'topic' or 'unit', most urgent group first.
// The alerts come sorted (compare) and keep their order in each group.
export function group(alerts, by) {
  const groups = new Map();
  const keyOf = by === 'topic' ? topicOf : by === 'unit' ? unitOf : (a) => a.level;
  for (const a of alerts) {
    const k = keyOf(a);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(a);
  }
  const out = [...groups.entries()].map(([key, list]) => ({
    key,
    title: by === 'level' ? `${LEVEL_TEXT[key] || key}预警` : key,
    alerts: list,
  }));
  if (by === 'level') out.sort((x, y) => (LEVEL_RANK[x.key] ?? 9) - (LEVEL_RANK[y.key] ?? 9));
  else out.sort((x, y) => compare(x.alerts[0], y.alerts[0]) || y.alerts.length - x.alerts.length);
  return out;
}

// The deadline that counts now: the response clock while not handled, else none. (Kept on
// the alert: the store replaces an alert object on every change, so it cannot go stale.)
export function deadline(a) {
  if (a._deadline === undefined) {
    const times = [a.respond_by_ms, a.release_by_ms].filter((t) => t > 0);
    a._deadline = a.state === 'handled' || a.state === 'closed' || !times.length ? 0 : Math.min(...times);
  }
  return a._deadline;
}

// The clocks of an alert: [{label, due_ms}] (response, authoritative release).
export function clocks(a) {
  if (a.state === 'handled' || a.state === 'closed') return [];
  const out = [];
  if (a.respond_by_ms > 0) out.push({ label: '响应时限', due: a.respond_by_ms });
  if (a.release_by_ms > 0) out.push({ label: '发布时限', due: a.release_by_ms });
  return out;
}

export function stateText(a) {
  return `${STATE_TEXT[a.state] || a.state}${a.condition === 'cleared' ? '（条件已消除）' : ''}`;
}
