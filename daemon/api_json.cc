#include "daemon/api_json.h"

#include <chrono>
#include <future>
#include <stdexcept>

#include "common/time.h"
#include "config/clock.h"
#include "sets/checks.h"
#include "segment/segmenter.h"

namespace yuqing::daemon {

using nlohmann::json;

std::string join(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

json hit_json(const storage::hit_record& h) {
  json spans = json::array();
  for (const auto& s : h.spans)
    spans.push_back({{"field", s.field}, {"begin", s.begin}, {"end", s.end}, {"text", s.text}});
  return {{"topic", h.topic},           {"time", common::format_rfc3339(h.time_ms)},
          {"message_key", h.message_key}, {"set", h.set_id},
          {"set_version", h.set_version}, {"rule", h.rule_id},
          {"severity", h.severity},       {"plan_item", h.plan_item},
          {"channel", h.channel},         {"author", h.author},
          {"title", h.title},             {"spans", spans},
          {"boundary", h.boundary}};
}

// A time (RFC 3339, ms or an age like 7d) or a count; throws std::invalid_argument.
// A count parameter (limit): digits, 1..max; absent: dflt. Throws invalid_argument(key).
size_t query_count(const http::http_request& r, const std::string& key, size_t dflt, size_t max) {
  const auto it = r.query.find(key);
  if (it == r.query.end()) return dflt;
  const std::string& v = it->second;
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) throw std::invalid_argument(key);
  const auto n = std::stoul(v);
  if (n < 1 || n > max) throw std::invalid_argument(key);
  return n;
}

int64_t query_int(const http::http_request& r, const std::string& key, int64_t dflt) {
  const auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return dflt;
  int64_t ms;
  if (common::parse_time_or_age(it->second, system_clock().now_ms(), ms)) return ms;
  throw std::invalid_argument(key);
}

json hit_json(const matchers::hit& h, const std::vector<std::string>& names,
              const std::vector<std::string_view>& fields) {
  json spans = json::array();
  for (const auto& s : h.spans)
    spans.push_back({{"field", names[s.field]}, {"begin", s.begin}, {"end", s.end},
                     {"text", fields[s.field].substr(s.begin, s.end - s.begin)}});
  const uint32_t f = h.spans.empty() ? 0 : h.spans.front().field;
  return {{"set", h.set_id},       {"set_version", h.set_version}, {"rule", h.rule_id},
          {"topic", h.topic},      {"severity", matchers::to_string(h.level)},
          {"spans", spans},           {"boundary", segment::to_string(h.boundary)},
          {"highlighted", matchers::highlight(fields[f], h.spans, f, "【", "】")}};
}

// An alert as the API gives it: beside each time in epoch ms (fired_ms), the same time in
// RFC 3339 at the configured offset (fired); a time not reached yet (0) has none.
json alert_json(const alerting::alert& a, int offset_minutes) {
  json j = json::parse(a.to_json());
  auto add = [&](json& o, const std::string& key) {
    if (o.contains(key + "_ms") && o[key + "_ms"].get<int64_t>() > 0)
      o[key] = common::local_rfc3339(o[key + "_ms"].get<int64_t>(), offset_minutes);
  };
  for (const char* key : {"fired", "first_hit", "last_hit", "last_notified", "cleared", "acknowledged",
                          "handled", "closed", "release_by", "respond_by"})
    add(j, key);
  for (auto& e : j["examples"]) add(e, "time");
  for (auto& e : j["audit"]) add(e, "time");
  return j;
}

// The filters of GET /api/v1/alerts; "" or what is wrong, naming the parameter.
std::string read_alert_query(const http::http_request& r, alerting::alert_query& q) {
  static const std::set<std::string> known = {"state", "condition", "level", "topic", "unit", "kind", "limit"};
  for (const auto& [key, value] : r.query)
    if (!known.count(key)) return key + ": unknown filter (state, condition, level, topic, unit, kind, limit)";
  auto get = [&](const char* key) { return r.query.count(key) ? r.query.at(key) : std::string(); };
  q.state = get("state");
  q.condition = get("condition");
  q.level = get("level");
  q.topic = get("topic");
  q.unit = get("unit");
  q.kind = get("kind");
  static const std::set<std::string> states = {"open", "acknowledged", "handled", "closed"};
  if (!q.state.empty() && !states.count(q.state)) return "state: open, acknowledged, handled or closed";
  if (!q.condition.empty() && !alerting::parse_alert_condition(q.condition)) return "condition: firing or cleared";
  if (!q.level.empty() && !alerting::parse_alert_level(q.level)) return "level: blue, yellow, orange or red";
  static const std::set<std::string> kinds = {"immediate", "threshold", "spike", "spread", "due_soon",
                                              "overdue", "concentrated_issue", "same_text", "messages_lost", "rule_tuning",
                                              "risk_level"};
  if (!q.kind.empty() && !kinds.count(q.kind))
    return "kind: immediate, threshold, spike, spread, due_soon, overdue, concentrated_issue, same_text, "
           "messages_lost, rule_tuning or risk_level";
  try {
    q.limit = query_count(r, "limit", 100, 10000);
  } catch (const std::exception&) {
    return "limit: a number from 1 to 10000";
  }
  return "";
}

json outcome_json(const sets::reload_outcome& o) {
  return {{"ok", o.ok},           {"changed", o.changed},  {"trigger", o.trigger},
          {"finished", common::format_rfc3339(o.finished_ms)},     {"seconds", o.seconds},
          {"sets", o.sets},       {"errors", o.errors},    {"loaded", o.loaded}};
}

// Parses a set posted in a request and has it compiled on the keyword-set thread (with the
// time limit), waiting at most a second: the diagnostics as the error, or null while it
// still compiles (answer still_compiling(); posted again, the same compile answers).
result<std::shared_ptr<const matchers::compiled_set>> posted_set(sets::keyword_sets& sets,
                                                                 const std::string& yaml) {
  auto parsed = sets::parse_set(yaml, "(posted)");
  if (!parsed.ok()) return error{parsed.to_text()};
  constexpr auto wait = std::chrono::seconds(1);  // /healthz and the rest wait no longer
  auto f = sets.compile(std::move(*parsed.set));
  if (f.wait_for(wait) != std::future_status::ready)
    return std::shared_ptr<const matchers::compiled_set>();
  const auto& c = f.get();
  if (!c.ok()) return error{c.to_text()};
  return c.set;
}

http::http_response still_compiling() {
  return {202, "application/json",
          json{{"state", "compiling"}, {"retry", "post the same set again for its result"}}.dump()};
}

}  // namespace yuqing::daemon
