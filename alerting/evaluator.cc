#include "alerting/evaluator.h"

#include <algorithm>
#include <cstdio>

namespace yuqing::alerting {

namespace {

constexpr size_t max_examples = 5;

std::string fingerprint_of(const std::string& set, const alert_rule& r,
                           const std::string& topic, const std::string& keyword_rule) {
  std::string f = set + "/" + r.id + "/" + r.kind + "/" + topic;
  if (!keyword_rule.empty()) f += "/" + keyword_rule;
  return f;
}

std::string alert_id(const std::string& fingerprint, const std::string& key, int64_t t) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : fingerprint + "\n" + key + "\n" + std::to_string(t)) h = (h ^ c) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof buf, "al-%012llx", static_cast<unsigned long long>(h & 0xFFFFFFFFFFFFull));
  return buf;
}

bool warned(const alert& a, const std::string& what) {
  return std::find(a.clocks_warned.begin(), a.clocks_warned.end(), what) != a.clocks_warned.end();
}

}  // namespace

const char* to_string(reason r) {
  switch (r) {
    case reason::fired: return "fired";
    case reason::repeat: return "repeat";
    case reason::escalated: return "escalated";
    case reason::clock: return "clock";
    case reason::acknowledged: return "acknowledged";
    case reason::handled: return "handled";
    case reason::cleared: return "cleared";
    case reason::fired_again: return "fired_again";
    case reason::closed: return "closed";
  }
  return "?";
}

evaluator::evaluator(settings s, std::shared_ptr<const config::plan> plan)
    : settings_(s), plan_(std::move(plan)) {}

evaluator::state_now evaluator::condition(const series& s, int64_t t) const {
  const auto& r = s.rule;
  state_now st;
  auto after = [&](int64_t t0) {  // first event later than t0 (events are by time)
    return std::upper_bound(s.events.begin(), s.events.end(), t0,
                            [](int64_t v, const event& e) { return v < e.time_ms; });
  };
  auto in = [&](int64_t from, int64_t to) {  // (from, to]
    return static_cast<uint64_t>(std::distance(after(from), after(to)));
  };
  if (r.kind == "immediate") {
    st.count = in(t - r.resolve_after_ms, t);
    st.on = st.count > 0;
  } else if (r.kind == "threshold") {
    st.count = in(t - r.window_ms, t);
    st.on = st.count >= r.count;
  } else if (r.kind == "spread") {
    if (!s.events.empty() && t == s.events.back().time_ms) {
      // The newest message's window (the usual case): every kept event but the few at the
      // front that the window has left since the last prune, whose `who` are taken off.
      std::map<std::string_view, uint32_t> left;
      size_t stale = 0;
      for (auto e = s.events.begin(); e != s.events.end() && e->time_ms <= t - r.window_ms; ++e, ++stale)
        if (!e->who.empty()) ++left[e->who];
      st.count = s.events.size() - stale;
      st.distinct = s.who.size();
      for (const auto& [w, n] : left)
        if (s.who.find(std::string(w))->second == n) --st.distinct;
    } else {  // a window that ends earlier (a late message): counted over its events
      std::unordered_set<std::string_view> who;
      for (auto e = after(t - r.window_ms), end = after(t); e != end; ++e) {
        ++st.count;
        if (!e->who.empty()) who.insert(e->who);
      }
      st.distinct = who.size();
    }
    st.on = st.distinct >= r.count;
  } else if (r.kind == "spike") {
    st.count = in(t - r.window_ms, t);
    const uint64_t base = in(t - r.window_ms - r.baseline_ms, t - r.window_ms);
    st.baseline = static_cast<double>(base) * static_cast<double>(r.window_ms) /
                  static_cast<double>(r.baseline_ms);
    st.on = st.count >= r.count && static_cast<double>(st.count) >= r.factor * st.baseline;
  }
  return st;
}

void evaluator::prune(series& s, int64_t t) {
  const auto& r = s.rule;
  const int64_t keep = r.kind == "immediate" ? r.resolve_after_ms : r.window_ms + r.baseline_ms;
  while (!s.events.empty() && s.events.front().time_ms <= t - keep) {
    const event& e = s.events.front();
    s.keys.erase(e.key);
    if (r.kind == "spread" && !e.who.empty()) {
      auto w = s.who.find(e.who);
      if (--w->second == 0) s.who.erase(w);
    }
    s.events.pop_front();
  }
}

alert& evaluator::fire(series& s, const state_now& st, int64_t t, int64_t now_ms, const event& trigger) {
  alert a;
  a.id = alert_id(s.fingerprint, trigger.key, t);
  a.fingerprint = s.fingerprint;
  a.level = s.rule.level;
  a.kind = s.rule.kind;
  a.topic = s.topic;
  a.set_id = s.set_id;
  a.set_name = s.set_name;
  a.alert_rule = s.rule.id;
  a.keyword_rule = s.keyword_rule;
  a.plan_item = s.plan_item;
  if (plan_ && s.plan_item > 0) {
    if (const auto* item = plan_->item(s.plan_item)) {
      a.plan_text = item->subsection.empty() ? item->text : item->subsection;
      a.lead_units = item->lead_units;
      a.cooperating_units = item->cooperating_units;
    }
  }
  a.count = st.count;
  a.distinct = st.distinct;
  if (s.rule.kind == "spread") a.distinct_by = s.rule.distinct;
  a.baseline = st.baseline;
  a.window_ms = s.rule.kind == "immediate" ? s.rule.resolve_after_ms : s.rule.window_ms;
  a.first_hit_ms = t;
  for (const auto& e : s.events)
    if (e.time_ms > t - a.window_ms && e.time_ms <= t) a.first_hit_ms = std::min(a.first_hit_ms, e.time_ms);
  a.last_hit_ms = t;
  a.fired_ms = now_ms;
  a.last_notified_ms = now_ms;
  const bool major = a.level >= alert_level::orange;
  a.release_by_ms = major ? now_ms + settings_.release_ms : 0;
  a.respond_by_ms = now_ms + (major ? settings_.respond_major_ms : settings_.respond_other_ms);
  // The latest messages of the window, newest last.
  for (auto it = s.events.rbegin(); it != s.events.rend() && a.examples.size() < max_examples; ++it) {
    if (it->time_ms > t) continue;
    a.examples.insert(a.examples.begin(), {it->key, it->time_ms, it->rule, it->author, it->excerpt});
  }
  a.audit.push_back({now_ms, "fired", "yuqing",
                     "at message " + trigger.key + " (" + std::to_string(st.count) + " in window)"});
  s.active = a.id;
  s.clear_since = -1;
  return alerts_[a.id] = std::move(a);
}

std::vector<notification> evaluator::on_hit(const hit_event& e,
                                            const std::vector<alert_rule>& rules,
                                            int64_t now_ms, bool replay, position pos,
                                            const std::string& set_name) {
  std::vector<notification> out;
  if (pos.offset >= 0) {
    auto [at, fresh] = streams_.try_emplace(pos.partition, stream_time{e.time_ms, now_ms});
    if (!fresh && e.time_ms > at->second.newest_ms) at->second = {e.time_ms, now_ms};
  }
  auto process = [&](const alert_rule& rule, const hit_event::rule_hit& rh,
                     const std::string& keyword_rule) {
    const auto fp = fingerprint_of(e.set_id, rule, e.topic, keyword_rule);
    auto& s = series_[fp];
    if (s.fingerprint.empty()) {
      s.fingerprint = fp;
      s.topic = e.topic;
      s.set_id = e.set_id;
      // The keyword rule the alert is about: the hit's for immediate, the one the alert
      // rule is restricted to for the others (not in their fingerprint: that stays as it was).
      s.keyword_rule = keyword_rule.empty() ? rule.rule : keyword_rule;
    }
    s.rule = rule;  // the set may have been reloaded
    s.plan_item = e.plan_item;
    s.set_name = set_name;
    if (pos.offset >= 0) s.partition = pos.partition;
    if (!s.keys.insert(e.message_key).second) return;  // a replayed duplicate
    // After the events of its time or earlier (found by binary search: messages of several
    // partitions arrive out of time order).
    const auto at = std::upper_bound(s.events.begin(), s.events.end(), e.time_ms,
                                     [](int64_t v, const event& x) { return v < x.time_ms; });
    const auto inserted = s.events.insert(
        at, event{e.time_ms, e.message_key, rule.distinct == "source" ? e.source : e.author, rh.rule,
                  rh.excerpt, e.author, pos});
    const event& ev = *inserted;  // valid until prune() below
    if (s.rule.kind == "spread" && !ev.who.empty()) ++s.who[ev.who];  // (the kind is the series')
    // The windows that hold this message end at its time or at a later message's (a late
    // arrival can complete a window that ends after it): the first that holds fires.
    auto st = condition(s, e.time_ms);
    int64_t at_time = e.time_ms;
    const int64_t span = s.rule.kind == "immediate" ? 0 : s.rule.window_ms;
    for (auto later = std::next(inserted);
         !st.on && later != s.events.end() && later->time_ms < e.time_ms + span; ++later) {
      st = condition(s, later->time_ms);
      at_time = later->time_ms;
    }
    if (st.on) {
      if (s.active.empty()) {
        if (!replay) out.push_back({reason::fired, "", fire(s, st, at_time, now_ms, ev)});
      } else if (auto it = alerts_.find(s.active); it != alerts_.end()) {
        alert& a = it->second;
        a.count = s.rule.kind == "immediate" ? a.count + 1 : std::max(a.count, st.count);
        a.distinct = std::max(a.distinct, st.distinct);
        a.last_hit_ms = std::max(a.last_hit_ms, e.time_ms);
        if (a.examples.size() < max_examples)
          a.examples.push_back({ev.key, ev.time_ms, ev.rule, ev.author, ev.excerpt});
        s.clear_since = -1;
        if (a.condition == alert_condition::cleared && !replay) {
          a.condition = alert_condition::firing;
          a.cleared_ms = 0;
          a.audit.push_back({now_ms, "fired_again", "yuqing", "at message " + ev.key});
          out.push_back({reason::fired_again, "", a});
        }
      }
    }
    prune(s, s.events.empty() ? e.time_ms : s.events.back().time_ms);
  };
  for (const auto& rule : rules) {
    if (rule.kind == "immediate") {
      for (const auto& rh : e.rules)
        if (rh.level >= rule.min_severity && (rule.rule.empty() || rh.rule == rule.rule))
          process(rule, rh, rh.rule);
      continue;
    }
    const hit_event::rule_hit* chosen = nullptr;
    for (const auto& rh : e.rules) {
      if (!rule.rule.empty() && rh.rule != rule.rule) continue;
      if (!chosen || rh.level > chosen->level) chosen = &rh;
    }
    if (chosen) process(rule, *chosen, "");
  }
  return out;
}

int64_t evaluator::window_clock(int32_t partition, int64_t now_ms) const {
  const auto it = streams_.find(partition);
  if (it == streams_.end()) return now_ms;
  return std::min(now_ms, it->second.newest_ms + (now_ms - it->second.read_ms));
}

void evaluator::update_condition(series& s, alert& a, int64_t t, int64_t now_ms,
                                 std::vector<notification>& out) {
  const auto st = condition(s, t);
  bool clear = false;
  if (s.rule.kind == "immediate") {
    clear = !st.on;
  } else if (st.on) {
    s.clear_since = -1;
  } else {
    if (s.clear_since < 0) s.clear_since = t;
    clear = t - s.clear_since >= s.rule.resolve_after_ms;
  }
  if (clear && a.condition == alert_condition::firing) {
    a.condition = alert_condition::cleared;
    a.cleared_ms = now_ms;
    a.audit.push_back({now_ms, "cleared", "yuqing", "the condition has cleared"});
    out.push_back({reason::cleared, "", a});
  }
}

void evaluator::close(series& s, alert& a, const std::string& note, int64_t now_ms,
                      std::vector<notification>& out) {
  a.state = alert_state::closed;
  a.closed_ms = now_ms;
  a.audit.push_back({now_ms, "closed", "yuqing", note});
  s.active.clear();
  s.clear_since = -1;
  out.push_back({reason::closed, "", a});
}

std::vector<notification> evaluator::step(const std::string& id, int64_t now_ms) {
  std::vector<notification> out;
  alert& a = alerts_.at(id);
  auto& s = series_of(a);
  if (!s.external) update_condition(s, a, window_clock(s.partition, now_ms), now_ms, out);
  if (a.condition == alert_condition::cleared) {
    const auto& unattended = settings_.close_unattended;
    if (a.state == alert_state::handled) {
      close(s, a, "handled, and the condition has cleared", now_ms, out);
      return out;
    }
    if (std::find(unattended.begin(), unattended.end(), a.level) != unattended.end() &&
        now_ms - a.cleared_ms >= settings_.close_grace_ms) {
      close(s, a, "the condition has stayed clear for " + std::to_string(settings_.close_grace_ms / 60000) +
                      " min (" + alerting::to_string(a.level) + " closes unattended)", now_ms, out);
      return out;
    }
  }
  auto more = people_clocks(a, now_ms);
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return out;
}

std::vector<notification> evaluator::people_clocks(alert& a, int64_t now_ms) {
  std::vector<notification> out;
  if (a.unattended() && a.level >= alert_level::orange && !a.escalated &&
      now_ms - a.fired_ms >= settings_.escalate_ms) {
    a.escalated = true;
    if (a.level < alert_level::red) a.level = alert_level::red;
    a.last_notified_ms = now_ms;
    a.audit.push_back({now_ms, "escalated", "yuqing", "not acknowledged in time; level now " +
                                                          std::string(alerting::to_string(a.level))});
    out.push_back({reason::escalated, "", a});
  } else if (a.unattended() && now_ms - a.last_notified_ms >= settings_.repeat_ms) {
    a.last_notified_ms = now_ms;
    a.audit.push_back({now_ms, "notified", "yuqing", "repeat: not acknowledged"});
    out.push_back({reason::repeat, "", a});
  }
  if (a.state != alert_state::handled) {
    for (const auto& [name, due] : {std::pair<std::string, int64_t>{"release", a.release_by_ms},
                                    std::pair<std::string, int64_t>{"respond", a.respond_by_ms}}) {
      if (due <= 0) continue;
      std::string what;
      if (now_ms >= due && !warned(a, name + "_missed")) what = name + "_missed";
      else if (now_ms < due && now_ms >= due - settings_.clock_warning_ms && !warned(a, name + "_soon"))
        what = name + "_soon";
      if (what.empty()) continue;
      a.clocks_warned.push_back(what);
      a.audit.push_back({now_ms, "clock", "yuqing", what});
      out.push_back({reason::clock, what, a});
    }
  }
  return out;
}

std::vector<notification> evaluator::tick(int64_t now_ms) {
  std::vector<notification> out;
  std::vector<std::string> active, stale;
  for (const auto& [id, a] : alerts_) {
    if (a.active()) active.push_back(id);
    else if (now_ms - a.closed_ms > settings_.keep_closed_ms) stale.push_back(id);
  }
  for (const auto& id : active) {
    auto n = step(id, now_ms);
    out.insert(out.end(), std::make_move_iterator(n.begin()), std::make_move_iterator(n.end()));
  }
  for (const auto& id : stale) alerts_.erase(id);
  // Series without events or an alert are dropped.
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.events.empty() && it->second.active.empty()) it = series_.erase(it);
    else ++it;
  }
  return out;
}

result<notification> evaluator::acknowledge(const std::string& id, const std::string& who,
                                            const std::string& note, int64_t now_ms) {
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return error{"no alert " + id};
  alert& a = it->second;
  if (a.state != alert_state::open)
    return error{"alert " + id + " is " + to_string(a.state) + ", only an open alert can be acknowledged"};
  a.state = alert_state::acknowledged;
  a.acknowledged_ms = now_ms;
  a.audit.push_back({now_ms, "acknowledged", who, note});
  return notification{reason::acknowledged, "", a};
}

result<notification> evaluator::handle(const std::string& id, const std::string& who,
                                       const std::string& note, int64_t now_ms) {
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return error{"no alert " + id};
  alert& a = it->second;
  if (a.state == alert_state::handled || a.state == alert_state::closed)
    return error{"alert " + id + " is " + to_string(a.state) + " already"};
  a.state = alert_state::handled;
  a.handled_ms = now_ms;
  a.audit.push_back({now_ms, "handled", who, note});
  return notification{reason::handled, "", a};
}

void evaluator::restore(const alert& a) {
  alerts_[a.id] = a;
  if (a.active()) series_of(a);
}

evaluator::series& evaluator::series_of(const alert& a) {
  auto& s = series_[a.fingerprint];
  if (s.fingerprint.empty()) {  // restored without its window (yet): resolves once clear
    s.fingerprint = a.fingerprint;
    s.topic = a.topic;
    s.set_id = a.set_id;
    s.keyword_rule = a.keyword_rule;
    s.rule.kind = a.kind;
    s.rule.id = a.alert_rule;
    s.external = a.origin != "rules";
  }
  s.active = a.id;
  return s;
}

std::vector<notification> evaluator::raise(alert a, int64_t now_ms) {
  auto& s = series_[a.fingerprint];
  if (!s.active.empty()) {
    if (auto it = alerts_.find(s.active); it != alerts_.end() && it->second.active()) {
      alert& known = it->second;
      known.count = std::max(known.count, a.count);
      known.last_hit_ms = std::max(known.last_hit_ms, a.last_hit_ms);
      if (!a.examples.empty()) known.examples = std::move(a.examples);
      if (known.condition == alert_condition::firing) return {};
      known.condition = alert_condition::firing;
      known.cleared_ms = 0;
      known.audit.push_back({now_ms, "fired_again", "yuqing", known.summary()});
      return {{reason::fired_again, "", known}};
    }
  }
  if (a.id.empty()) a.id = alert_id(a.fingerprint, a.origin, now_ms);
  a.state = alert_state::open;
  a.condition = alert_condition::firing;
  a.fired_ms = now_ms;
  a.last_notified_ms = now_ms;
  if (a.audit.empty()) a.audit.push_back({now_ms, "fired", "yuqing", a.summary()});
  s.fingerprint = a.fingerprint;
  s.topic = a.topic;
  s.set_id = a.set_id;
  s.rule.kind = a.kind;
  s.rule.id = a.alert_rule;
  s.external = true;
  s.active = a.id;
  const std::string id = a.id;
  return {{reason::fired, "", alerts_[id] = std::move(a)}};
}

std::optional<std::vector<notification>> evaluator::resolve(const std::string& fingerprint,
                                                              const std::string& note, int64_t now_ms) {
  const auto s = series_.find(fingerprint);
  if (s == series_.end() || s->second.active.empty()) return std::nullopt;
  const auto it = alerts_.find(s->second.active);
  if (it == alerts_.end() || !it->second.active()) return std::nullopt;
  alert& a = it->second;
  if (a.condition == alert_condition::cleared) return std::vector<notification>{};
  a.condition = alert_condition::cleared;
  a.cleared_ms = now_ms;
  a.audit.push_back({now_ms, "cleared", "yuqing", note});
  return std::vector<notification>{{reason::cleared, "", a}};
}

std::vector<alert> evaluator::alerts() const {
  std::vector<alert> out;
  for (const auto& [id, a] : alerts_) out.push_back(a);
  return out;
}

const alert* evaluator::find(const std::string& id) const {
  auto it = alerts_.find(id);
  return it == alerts_.end() ? nullptr : &it->second;
}

std::map<int32_t, int64_t> evaluator::oldest_needed() const {
  std::map<int32_t, int64_t> oldest;
  for (const auto& [fp, s] : series_)
    for (const auto& e : s.events) {
      if (e.pos.offset < 0) continue;
      auto [at, fresh] = oldest.emplace(e.pos.partition, e.pos.offset);
      if (!fresh && e.pos.offset < at->second) at->second = e.pos.offset;
    }
  return oldest;
}

void evaluator::forget_partitions(const std::vector<int32_t>& partitions) {
  for (const int32_t p : partitions) streams_.erase(p);
  auto gone = [&](const event& e) {
    return std::find(partitions.begin(), partitions.end(), e.pos.partition) != partitions.end();
  };
  for (auto it = series_.begin(); it != series_.end();) {
    auto& s = it->second;
    if (std::any_of(s.events.begin(), s.events.end(), gone)) {
      if (!s.active.empty()) alerts_.erase(s.active);  // the new owner restores it
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace yuqing::alerting
