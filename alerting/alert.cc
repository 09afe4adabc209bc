#include "alerting/alert.h"

#include <nlohmann/json.hpp>

#include "common/json.h"
#include <simdjson.h>

#include "common/utf8.h"

namespace yuqing::alerting {

namespace {

using nlohmann::json;

using common::dump;

const char* kind_zh(const std::string& kind) {
  if (kind == "immediate") return "出现需立即关注的信息";
  if (kind == "threshold") return "相关信息达到阈值";
  if (kind == "spike") return "相关信息突增";
  if (kind == "spread") return "多人多源扩散";
  if (kind == "due_soon") return "留言即将超期";
  if (kind == "overdue") return "留言已超期未答复";
  if (kind == "concentrated_issue") return "留言反映问题集中";
  if (kind == "same_text") return "同文多发";
  if (kind == "messages_lost") return "消息丢失";
  if (kind == "rule_tuning") return "规则需要调整";
  if (kind == "risk_level") return "风险等级上升";
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
    case alert_state::open: return "open";
    case alert_state::acknowledged: return "acknowledged";
    case alert_state::handled: return "handled";
    case alert_state::closed: return "closed";
  }
  return "?";
}

std::optional<alert_state> parse_alert_state(const std::string& s) {
  if (s == "open" || s == "firing") return alert_state::open;
  if (s == "acknowledged") return alert_state::acknowledged;
  if (s == "handled") return alert_state::handled;
  if (s == "closed" || s == "resolved") return alert_state::closed;
  return std::nullopt;
}

const char* to_string(alert_condition c) { return c == alert_condition::firing ? "firing" : "cleared"; }

std::optional<alert_condition> parse_alert_condition(const std::string& s) {
  if (s == "firing") return alert_condition::firing;
  if (s == "cleared") return alert_condition::cleared;
  return std::nullopt;
}

std::string alert::who(const std::string& action) const {
  for (auto it = audit.rbegin(); it != audit.rend(); ++it)
    if (it->action == action) return it->who;
  return "";
}

// Hit events go through the hits topic once per matched message and set: written by
// ingest and read by the evaluator on every matched message, so both are hand-made here
// (nlohmann's object model cost 8 us a side per event, a third of ingest's rate through
// Kafka). The text is what nlohmann's dump wrote before: keys in sorted order, no spaces,
// non-ASCII as is.
namespace {

// s as a JSON string: ", \ and control characters escaped as nlohmann escapes them; a byte
// that is not valid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet appended
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      uint32_t cp;
      if (const int len = common::decode_utf8(s, i, cp); len > 0) {
        i += static_cast<size_t>(len);
        continue;
      }
    }
    out.append(s.substr(run, i - run));
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += "\xEF\xBF\xBD";  // not UTF-8
        }
    }
    run = ++i;
  }
  out.append(s.substr(run));
  out += '"';
}

// `"key":value`, after a comma unless it opens an object.
void append_key(std::string& out, const char* key) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void append_field(std::string& out, const char* key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

void append_field(std::string& out, const char* key, int64_t value) {
  append_key(out, key);
  out += std::to_string(value);
}

// The fields of a parsed event: a missing optional one keeps its default; a field of the
// wrong type fails the event (as nlohmann's value() and at() did).
bool read_string(const simdjson::dom::object& o, const char* key, std::string& out, bool required) {
  simdjson::dom::element v;
  const auto err = o.at_key(key).get(v);
  if (err == simdjson::NO_SUCH_FIELD) return !required;
  std::string_view sv;
  if (err || v.get_string().get(sv)) return false;
  out.assign(sv);
  return true;
}

template <class Int>
bool read_integer(const simdjson::dom::object& o, const char* key, Int& out, bool required) {
  simdjson::dom::element v;
  const auto err = o.at_key(key).get(v);
  if (err == simdjson::NO_SUCH_FIELD) return !required;
  if (err) return false;
  int64_t i;
  uint64_t u;
  double d;
  if (v.get_int64().get(i) == simdjson::SUCCESS) out = static_cast<Int>(i);
  else if (v.get_uint64().get(u) == simdjson::SUCCESS) out = static_cast<Int>(u);
  else if (v.get_double().get(d) == simdjson::SUCCESS) out = static_cast<Int>(d);
  else return false;
  return true;
}

}  // namespace

std::string hit_event::to_json() const {
  std::string out;
  size_t size = 200 + topic.size() + set_id.size() + set_version.size() + message_key.size() +
                author.size() + source.size() + channel.size() + title.size();
  for (const auto& r : rules) size += 64 + r.rule.size() + r.excerpt.size();
  out.reserve(size);
  out += '{';
  append_field(out, "author", author);
  append_field(out, "channel", channel);
  append_field(out, "message_key", message_key);
  append_field(out, "plan_item", plan_item);
  append_key(out, "rules");
  out += '[';
  for (size_t k = 0; k < rules.size(); ++k) {
    out += k ? ",{" : "{";
    append_field(out, "excerpt", rules[k].excerpt);
    append_field(out, "rule", rules[k].rule);
    append_field(out, "severity", common::to_string(rules[k].level));
    out += '}';
  }
  out += ']';
  append_field(out, "set", set_id);
  append_field(out, "set_version", set_version);
  append_field(out, "source", source);
  append_field(out, "time_ms", time_ms);
  append_field(out, "title", title);
  append_field(out, "topic", topic);
  out += '}';
  return out;
}

std::optional<hit_event> hit_event::from_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object o;
  if (parser.parse(text.data(), text.size()).get(doc) || doc.get_object().get(o)) return std::nullopt;
  hit_event e;
  if (!read_string(o, "topic", e.topic, true) || !read_string(o, "set", e.set_id, true) ||
      !read_string(o, "set_version", e.set_version, false) ||
      !read_integer(o, "plan_item", e.plan_item, false) ||
      !read_string(o, "message_key", e.message_key, true) ||
      !read_integer(o, "time_ms", e.time_ms, true) || !read_string(o, "author", e.author, false) ||
      !read_string(o, "source", e.source, false) || !read_string(o, "channel", e.channel, false) ||
      !read_string(o, "title", e.title, false))
    return std::nullopt;
  simdjson::dom::array rules;
  if (o.at_key("rules").get_array().get(rules)) return std::nullopt;
  for (const auto r : rules) {
    simdjson::dom::object ro;
    if (r.get_object().get(ro)) return std::nullopt;
    rule_hit h;
    std::string severity = "warning";
    if (!read_string(ro, "rule", h.rule, true) || !read_string(ro, "severity", severity, false) ||
        !read_string(ro, "excerpt", h.excerpt, false))
      return std::nullopt;
    h.level = common::parse_severity(severity).value_or(alerting::severity::warning);
    e.rules.push_back(std::move(h));
  }
  return e;
}

void hit_event::set_message(const storage::message_record& m) {
  message_key = m.key;
  time_ms = m.time_ms;
  author = m.author;
  source = m.source_name;
  channel = m.channel;
  title = m.title;
}

std::string alert::summary() const {
  std::string s = std::string("【") + level_zh(level) + "预警】" + (!set_name.empty() ? set_name : topic.empty() ? "省长留言信箱" : topic) +
                  "：" + kind_zh(kind) + "，" + std::to_string(count) + "条";
  if (auto it = labels.find("case"); it != labels.end()) s += "，留言" + it->second;
  if (kind == "spread")
    s += "，" + std::to_string(distinct) +
         (distinct_by == "author" ? "个作者" : distinct_by == "source" ? "个来源" : "个作者或来源");
  if (auto it = labels.find("risk_index"); it != labels.end() && kind == "risk_level")
    s += "，风险指数" + it->second + "（" + labels.at("risk_level") + "）";
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
               {"level", alerting::to_string(level)},
               {"kind", kind},
               {"origin", origin},
               {"topic", topic},
               {"set", set_id},
               {"set_name", set_name},
               {"alert_rule", alert_rule},
               {"keyword_rule", keyword_rule},
               {"plan_item", plan_item},
               {"plan_text", plan_text},
               {"lead_units", lead_units},
               {"cooperating_units", cooperating_units},
               {"state", to_string(state)},
               {"condition", to_string(condition)},
               {"count", count},
               {"distinct", distinct},
               {"distinct_by", distinct_by},
               {"baseline", baseline},
               {"window_ms", window_ms},
               {"first_hit_ms", first_hit_ms},
               {"last_hit_ms", last_hit_ms},
               {"fired_ms", fired_ms},
               {"cleared_ms", cleared_ms},
               {"acknowledged_ms", acknowledged_ms},
               {"handled_ms", handled_ms},
               {"closed_ms", closed_ms},
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
    a.level = parse_alert_level(j.at("level")).value_or(alert_level::yellow);
    a.kind = j.at("kind");
    a.origin = j.value("origin", "rules");
    a.topic = j.value("topic", "");
    a.set_id = j.value("set", "");
    a.set_name = j.value("set_name", "");
    a.alert_rule = j.value("alert_rule", "");
    a.keyword_rule = j.value("keyword_rule", "");
    a.plan_item = j.value("plan_item", 0);
    a.plan_text = j.value("plan_text", "");
    a.lead_units = j.value("lead_units", std::vector<std::string>{});
    a.cooperating_units = j.value("cooperating_units", std::vector<std::string>{});
    const std::string state = j.at("state");
    a.state = parse_alert_state(state).value_or(alert_state::open);
    // Records of earlier versions: "resolved" was the condition cleared and the alert closed.
    a.condition = parse_alert_condition(j.value("condition", state == "resolved" ? "cleared" : "firing"))
                      .value_or(alert_condition::firing);
    a.count = j.value("count", uint64_t{0});
    a.distinct = j.value("distinct", uint64_t{0});
    a.distinct_by = j.value("distinct_by", "");
    a.baseline = j.value("baseline", 0.0);
    a.window_ms = j.value("window_ms", int64_t{0});
    a.first_hit_ms = j.value("first_hit_ms", int64_t{0});
    a.last_hit_ms = j.value("last_hit_ms", int64_t{0});
    a.fired_ms = j.value("fired_ms", int64_t{0});
    a.cleared_ms = j.value("cleared_ms", j.value("resolved_ms", int64_t{0}));
    a.acknowledged_ms = j.value("acknowledged_ms", int64_t{0});
    a.handled_ms = j.value("handled_ms", int64_t{0});
    a.closed_ms = j.value("closed_ms", j.value("resolved_ms", int64_t{0}));
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
