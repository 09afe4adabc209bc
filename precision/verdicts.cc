#include "precision/verdicts.h"

#include <nlohmann/json.hpp>

namespace yuqing::precision {

using nlohmann::json;

namespace {

const std::string family = "verdicts";

std::string escape_part(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%') out += "%25";
    else if (c == '|') out += "%7C";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescape_part(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (s.substr(i, 3) == "%25") out += '%';
    else if (s.substr(i, 3) == "%7C" || s.substr(i, 3) == "%7c") out += '|';
    else return std::nullopt;
    i += 2;
  }
  return out;
}

std::string hit_key(const std::string& id) { return std::string("h\0", 2) + id; }
std::string alert_key(const std::string& id) { return std::string("a\0", 2) + id; }

json entry_json(const verdict_entry& e) {
  json j{{"verdict", to_string(e.what)}, {"who", e.who}, {"note", e.note}, {"time_ms", e.time_ms}};
  if (!e.alert.empty()) j["alert"] = e.alert;
  return j;
}

verdict_entry entry_from(const json& j) {
  verdict_entry e;
  e.what = parse_verdict(j.at("verdict").get<std::string>()).value_or(verdict::undetermined);
  e.who = j.value("who", "");
  e.note = j.value("note", "");
  e.time_ms = j.value("time_ms", int64_t{0});
  e.alert = j.value("alert", "");
  return e;
}

}  // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::relevant: return "relevant";
    case verdict::false_hit: return "false";
    case verdict::undetermined: return "undetermined";
  }
  return "undetermined";
}

const char* to_chinese(verdict v) {
  switch (v) {
    case verdict::relevant: return "有效";
    case verdict::false_hit: return "误报";
    case verdict::undetermined: return "待定";
  }
  return "待定";
}

std::optional<verdict> parse_verdict(const std::string& s) {
  if (s == "relevant" || s == "有效") return verdict::relevant;
  if (s == "false" || s == "误报") return verdict::false_hit;
  if (s == "undetermined" || s == "待定") return verdict::undetermined;
  return std::nullopt;
}

std::string hit_id(const std::string& set, const std::string& rule, const std::string& message_key) {
  return set + "|" + escape_part(rule) + "|" + escape_part(message_key);
}

std::string hit_id(const storage::hit_record& h) { return hit_id(h.set_id, h.rule_id, h.message_key); }

std::optional<hit_ref> parse_hit_id(const std::string& id) {
  const auto a = id.find('|');
  if (a == std::string::npos || a == 0) return std::nullopt;
  const auto b = id.find('|', a + 1);
  if (b == std::string::npos || id.find('|', b + 1) != std::string::npos) return std::nullopt;
  auto rule = unescape_part(std::string_view(id).substr(a + 1, b - a - 1));
  auto key = unescape_part(std::string_view(id).substr(b + 1));
  if (!rule || !key || rule->empty() || key->empty()) return std::nullopt;
  return hit_ref{id.substr(0, a), std::move(*rule), std::move(*key)};
}

std::string verdict_record::to_json() const {
  json h = json::array();
  for (const auto& e : history) h.push_back(entry_json(e));
  return json{{"hit", hit},
              {"set", set},
              {"rule", rule},
              {"set_version", set_version},
              {"topic", topic},
              {"message_key", message_key},
              {"hit_time_ms", hit_time_ms},
              {"current", entry_json(current)},
              {"history", h}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<verdict_record> verdict_record::from_json(std::string_view text) {
  try {
    const auto j = json::parse(text);
    verdict_record r;
    r.hit = j.at("hit");
    r.set = j.at("set");
    r.rule = j.at("rule");
    r.set_version = j.value("set_version", "");
    r.topic = j.value("topic", "");
    r.message_key = j.at("message_key");
    r.hit_time_ms = j.value("hit_time_ms", int64_t{0});
    r.current = entry_from(j.at("current"));
    for (const auto& e : j.at("history")) r.history.push_back(entry_from(e));
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

result<verdict_record> verdict_book::record(const storage::hit_record& h, verdict_entry e) {
  std::lock_guard lock(mu_);
  const std::string id = hit_id(h);
  auto before = find(id);
  if (!before) return error{before.error_message()};
  verdict_record r = before->value_or(verdict_record{});
  r.hit = id;
  r.set = h.set_id;
  r.rule = h.rule_id;
  r.set_version = h.set_version;
  r.topic = h.topic;
  r.message_key = h.message_key;
  r.hit_time_ms = h.time_ms;
  r.current = e;
  r.history.push_back(std::move(e));
  if (auto st = store_.put(family, {{hit_key(id), r.to_json()}}); !st) return error{st.error_message()};
  return r;
}

status verdict_book::record_alert(const std::string& alert_id, const verdict_entry& e, size_t hits_marked) {
  json j = entry_json(e);
  j["alert"] = alert_id;
  j["hits_marked"] = hits_marked;
  return store_.put(family, {{alert_key(alert_id), j.dump(-1, ' ', false, json::error_handler_t::replace)}});
}

result<std::optional<std::string>> verdict_book::alert_verdict(const std::string& alert_id) const {
  return store_.get(family, alert_key(alert_id));
}

result<std::optional<verdict_record>> verdict_book::find(const std::string& id) const {
  auto v = store_.get(family, hit_key(id));
  if (!v) return error{v.error_message()};
  if (!v->has_value()) return std::optional<verdict_record>{};
  auto r = verdict_record::from_json(**v);
  if (!r) return error{"verdict of " + id + ": unreadable record in the store"};
  return std::optional<verdict_record>{std::move(*r)};
}

result<std::vector<verdict_record>> verdict_book::all(const std::string& set) const {
  std::vector<verdict_record> out;
  std::string bad;
  const std::string prefix = hit_key(set.empty() ? "" : set + "|");
  auto st = store_.scan(family, prefix, [&](std::string_view key, std::string_view value) {
    auto r = verdict_record::from_json(value);
    if (!r) {
      bad = std::string(key.substr(2));
      return false;
    }
    out.push_back(std::move(*r));
    return true;
  });
  if (!st) return error{st.error_message()};
  if (!bad.empty()) return error{"verdict of " + bad + ": unreadable record in the store"};
  return out;
}

result<verdict_counts> verdict_book::counts() const {
  auto records = all();
  if (!records) return error{records.error_message()};
  verdict_counts out;
  for (const auto& r : *records)
    for (const auto& e : r.history) ++out[{r.set, r.rule, to_string(e.what)}];
  return out;
}

}  // namespace yuqing::precision
