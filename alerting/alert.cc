#include "alerting/alert.h"

#include <nlohmann/json.hpp>

namespace yuqing::alerting {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

const char* kind_zh(const std::string& kind) {
  if (kind == "immediate") return "出现高危信息";
  if (kind == "threshold") return "相关信息达到阈值";
  if (kind == "spike") return "相关信息突增";
  if (kind == "spread") return "多人多源扩散";
  if (kind == "due_soon") return "留言即将超期";
  if (kind == "overdue") return "留言已超期未答复";
  if (kind == "concentrated_issue") return "留言反映问题集中";
  return "告警";
}

const char* level_zh(alert_level l) {
  switch (l) {
    case alert_level::blue: return "蓝色";
    case alert_level::yellow: return "黄色";
    case alert_level::orange: return "橙色";
    case alert_level::red: return "红色";
  }
  return "";
}

}  // namespace

const char* to_string(alert_state s) {
  switch (s) {
    case alert_state::firing: return "firing";
    case alert_state::acknowledged: return "acknowledged";
    case alert_state::handled: return "handled";
    case alert_state::resolved: return "resolved";
  }
  return "?";
}

std::optional<alert_state> parse_alert_state(const std::string& s) {
  if (s == "firing") return alert_state::firing;
  if (s == "acknowledged") return alert_state::acknowledged;
  if (s == "handled") return alert_state::handled;
  if (s == "resolved") return alert_state::resolved;
  return std::nullopt;
}

std::string hit_event::to_json() const {
  json rs = json::array();
  for (const auto& r : rules)
    rs.push_back({{"rule", r.rule}, {"severity", matchers::to_string(r.level)}, {"excerpt", r.excerpt}});
  return dump({{"topic", topic},         {"set", set_id},       {"set_version", set_version},
               {"plan_item", plan_item}, {"message_key", message_key}, {"time_ms", time_ms},
               {"author", author},       {"source", source},    {"channel", channel},
               {"title", title},         {"rules", rs}});
}

std::optional<hit_event> hit_event::from_json(std::string_view text) {
  try {
    const auto j = json::parse(text);
    hit_event e;
    e.topic = j.at("topic");
    e.set_id = j.at("set");
    e.set_version = j.value("set_version", "");
    e.plan_item = j.value("plan_item", 0);
    e.message_key = j.at("message_key");
    e.time_ms = j.at("time_ms");
    e.author = j.value("author", "");
    e.source = j.value("source", "");
    e.channel = j.value("channel", "");
    e.title = j.value("title", "");
    for (const auto& r : j.at("rules")) {
      const std::string sev = r.value("severity", "warning");
      e.rules.push_back({r.at("rule"),
                         sev == "critical" ? matchers::severity::critical
                         : sev == "info"   ? matchers::severity::info
                                           : matchers::severity::warning,
                         r.value("excerpt", "")});
    }
    return e;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string alert::summary() const {
  std::string s = std::string("【") + level_zh(level) + "预警】" + (topic.empty() ? "省长留言信箱" : topic) +
                  "：" + kind_zh(kind) + "，" + std::to_string(count) + "条";
  if (auto it = labels.find("case"); it != labels.end()) s += "，留言" + it->second;
  if (kind == "spread") s += "，" + std::to_string(distinct) + "个来源";
  if (!lead_units.empty()) {
    s += "，牵头单位：";
    for (size_t i = 0; i < lead_units.size(); ++i) s += (i ? "、" : "") + lead_units[i];
  }
  return s;
}

std::string alert::to_json() const {
  json ex = json::array();
  for (const auto& e : examples)
    ex.push_back({{"message_key", e.message_key}, {"time_ms", e.time_ms}, {"rule", e.rule},
                  {"author", e.author}, {"text", e.text}});
  json au = json::array();
  for (const auto& a : audit)
    au.push_back({{"time_ms", a.time_ms}, {"action", a.action}, {"who", a.who}, {"note", a.note}});
  return dump({{"id", id},
               {"fingerprint", fingerprint},
               {"level", matchers::to_string(level)},
               {"kind", kind},
               {"origin", origin},
               {"topic", topic},
               {"set", set_id},
               {"alert_rule", alert_rule},
               {"keyword_rule", keyword_rule},
               {"plan_item", plan_item},
               {"plan_text", plan_text},
               {"lead_units", lead_units},
               {"cooperating_units", cooperating_units},
               {"state", to_string(state)},
               {"count", count},
               {"distinct", distinct},
               {"baseline", baseline},
               {"window_ms", window_ms},
               {"first_hit_ms", first_hit_ms},
               {"last_hit_ms", last_hit_ms},
               {"fired_ms", fired_ms},
               {"resolved_ms", resolved_ms},
               {"last_notified_ms", last_notified_ms},
               {"escalated", escalated},
               {"release_by_ms", release_by_ms},
               {"respond_by_ms", respond_by_ms},
               {"clocks_warned", clocks_warned},
               {"summary", summary()},
               {"labels", labels},
               {"examples", ex},
               {"audit", au}});
}

std::optional<alert> alert::from_json(std::string_view text) {
  try {
    const auto j = json::parse(text);
    alert a;
    a.id = j.at("id");
    a.fingerprint = j.at("fingerprint");
    a.level = matchers::parse_alert_level(j.at("level")).value_or(alert_level::yellow);
    a.kind = j.at("kind");
    a.origin = j.value("origin", "rules");
    a.topic = j.value("topic", "");
    a.set_id = j.value("set", "");
    a.alert_rule = j.value("alert_rule", "");
    a.keyword_rule = j.value("keyword_rule", "");
    a.plan_item = j.value("plan_item", 0);
    a.plan_text = j.value("plan_text", "");
    a.lead_units = j.value("lead_units", std::vector<std::string>{});
    a.cooperating_units = j.value("cooperating_units", std::vector<std::string>{});
    a.state = parse_alert_state(j.at("state")).value_or(alert_state::firing);
    a.count = j.value("count", uint64_t{0});
    a.distinct = j.value("distinct", uint64_t{0});
    a.baseline = j.value("baseline", 0.0);
    a.window_ms = j.value("window_ms", int64_t{0});
    a.first_hit_ms = j.value("first_hit_ms", int64_t{0});
    a.last_hit_ms = j.value("last_hit_ms", int64_t{0});
    a.fired_ms = j.value("fired_ms", int64_t{0});
    a.resolved_ms = j.value("resolved_ms", int64_t{0});
    a.last_notified_ms = j.value("last_notified_ms", int64_t{0});
    a.escalated = j.value("escalated", false);
    a.release_by_ms = j.value("release_by_ms", int64_t{0});
    a.respond_by_ms = j.value("respond_by_ms", int64_t{0});
    a.clocks_warned = j.value("clocks_warned", std::vector<std::string>{});
    a.labels = j.value("labels", std::map<std::string, std::string>{});
    for (const auto& e : j.value("examples", json::array()))
      a.examples.push_back({e.value("message_key", ""), e.value("time_ms", int64_t{0}),
                            e.value("rule", ""), e.value("author", ""), e.value("text", "")});
    for (const auto& e : j.value("audit", json::array()))
      a.audit.push_back({e.value("time_ms", int64_t{0}), e.value("action", ""), e.value("who", ""),
                         e.value("note", "")});
    return a;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace yuqing::alerting
