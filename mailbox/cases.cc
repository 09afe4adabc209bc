#include "mailbox/cases.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/json.h"
#include "common/time.h"
#include "storage/key_codec.h"

#include "common/time.h"

namespace yuqing::mailbox {

using nlohmann::json;

namespace {

using common::dump;

std::string be64(int64_t v) { return storage::be64(static_cast<uint64_t>(v)); }

std::string time_or_empty(int64_t ms) { return ms > 0 ? common::format_rfc3339(ms) : ""; }

double nearest_rank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string hours_text(double h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", h);
  return buf;
}

}  // namespace

result<deadline_rule> parse_deadline_rule(std::string_view s) {
  if (s.size() < 2 || (s.back() != 'd' && s.back() != 'h'))
    return error{"'" + std::string(s) + "': expected working days (15d) or working hours (36h)"};
  int n = 0;
  for (char c : s.substr(0, s.size() - 1)) {
    if (c < '0' || c > '9' || n > 100000) return error{"'" + std::string(s) + "': not a number of days or hours"};
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return error{"'" + std::string(s) + "': must be more than zero"};
  return deadline_rule{n, s.back() == 'h'};
}

std::string mailbox_case::state(int64_t now_ms) const {
  if (reply) return "closed";
  return now_ms >= deadline_ms ? "overdue" : "open";
}

std::string mailbox_case::to_json(int64_t now_ms) const {
  json j{{"id", id},
         {"state", opened ? state(now_ms) : "reply_only"},
         {"future_time", opened && received_ms > now_ms},
         {"message_key", message_key},
         {"channel", channel},
         {"received", time_or_empty(received_ms)},
         {"category", category},
         {"region", region},
         {"author", author},
         {"title", title},
         {"excerpt", excerpt},
         {"topics", topics},
         {"sets", sets},
         {"rules", rules},
         {"units", units},
         {"deadline_rule", deadline_text},
         {"deadline", time_or_empty(deadline_ms)},
         {"alerts", alerts}};
  if (reply) {
    j["reply"] = {{"unit", reply->unit},
                  {"time", time_or_empty(reply->time_ms)},
                  {"message_key", reply->message_key},
                  {"excerpt", reply->excerpt}};
    if (opened) {
      j["on_time"] = on_time();
      j["reply_hours"] = static_cast<double>(reply->time_ms - received_ms) / 3600000.0;
    }
  }
  return dump(j);
}

std::string mailbox_case::encode_opening() const {
  return dump(json{{"id", id},           {"message_key", message_key}, {"channel", channel},
                   {"received_ms", received_ms}, {"category", category}, {"region", region},
                   {"author", author},   {"title", title},   {"excerpt", excerpt},
                   {"topics", topics},   {"sets", sets},     {"rules", rules},
                   {"units", units},     {"deadline_rule", deadline_text},
                   {"deadline_ms", deadline_ms}});
}

std::optional<mailbox_case> mailbox_case::decode_opening(std::string_view value) {
  try {
    const auto j = json::parse(value);
    mailbox_case c;
    c.opened = true;
    c.id = j.at("id");
    c.message_key = j.value("message_key", "");
    c.channel = j.value("channel", "");
    c.received_ms = j.at("received_ms");
    c.category = j.value("category", "");
    c.region = j.value("region", "");
    c.author = j.value("author", "");
    c.title = j.value("title", "");
    c.excerpt = j.value("excerpt", "");
    c.topics = j.value("topics", std::vector<std::string>{});
    c.sets = j.value("sets", std::vector<std::string>{});
    c.rules = j.value("rules", std::vector<std::string>{});
    c.units = j.value("units", std::vector<std::string>{});
    c.deadline_text = j.value("deadline_rule", "");
    c.deadline_ms = j.at("deadline_ms");
    return c;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string mailbox_case::encode_reply(const case_reply& r) {
  return dump(json{{"unit", r.unit}, {"time_ms", r.time_ms}, {"message_key", r.message_key},
                   {"excerpt", r.excerpt}});
}

std::optional<case_reply> mailbox_case::decode_reply(std::string_view value) {
  try {
    const auto j = json::parse(value);
    return case_reply{j.value("unit", ""), j.at("time_ms"), j.value("message_key", ""),
                      j.value("excerpt", "")};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

namespace mailbox_keys {
std::string opening(const std::string& id) { return std::string(openings) + id; }
std::string reply(const std::string& id) { return std::string(replies) + id; }
std::string alert(const std::string& id, const std::string& kind) {
  return std::string(alerts) + id + std::string(1, '\0') + kind;
}
std::string member(int64_t time_ms, const std::string& message_key) {
  return std::string(members) + be64(time_ms) + message_key;
}
std::string issue(int64_t time_ms, const std::string& fingerprint) {
  return std::string(issues) + be64(time_ms) + fingerprint;
}
}  // namespace mailbox_keys

std::string concentrated_issue::to_json() const {
  return dump(json{{"fingerprint", fingerprint}, {"by", by}, {"what", what}, {"topic", topic},
                   {"first", time_or_empty(first_ms)}, {"last", time_or_empty(last_ms)},
                   {"first_ms", first_ms}, {"last_ms", last_ms}, {"fired_ms", fired_ms},
                   {"count", count}, {"previous", previous}, {"active", active}, {"members", members},
                   {"examples", examples}});
}

std::optional<concentrated_issue> concentrated_issue::from_json(std::string_view text) {
  try {
    const auto j = json::parse(text);
    concentrated_issue i;
    i.fingerprint = j.at("fingerprint");
    i.by = j.value("by", "");
    i.what = j.value("what", "");
    i.topic = j.value("topic", "");
    i.first_ms = j.value("first_ms", int64_t{0});
    i.last_ms = j.value("last_ms", int64_t{0});
    i.fired_ms = j.value("fired_ms", int64_t{0});
    i.count = j.value("count", uint64_t{0});
    i.previous = j.value("previous", uint64_t{0});
    i.active = j.value("active", true);
    i.members = j.value("members", std::vector<std::string>{});
    i.examples = j.value("examples", std::vector<std::string>{});
    return i;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

double case_report::figures::median_hours() const { return nearest_rank(reply_hours, 0.5); }
double case_report::figures::p90_hours() const { return nearest_rank(reply_hours, 0.9); }

void case_report::add(const mailbox_case& c) {
  auto count = [&](figures& f) {
    ++f.received;
    const auto st = c.state(at_ms);
    if (st == "closed") {
      ++(c.on_time() ? f.on_time : f.late);
      f.reply_hours.push_back(static_cast<double>(c.reply->time_ms - c.received_ms) / 3600000.0);
    } else if (st == "overdue") {
      ++f.overdue;
    } else {
      ++f.open;
    }
  };
  count(total);
  for (const auto& u : c.units) count(by_unit[u]);
  count(by_category[c.category.empty() ? "(none)" : c.category]);
  if (c.topics.empty()) count(by_topic["(none)"]);
  for (const auto& t : c.topics) count(by_topic[t]);
}

namespace {

json figures_json(const case_report::figures& f) {
  return {{"received", f.received}, {"answered_on_time", f.on_time}, {"answered_late", f.late},
          {"open", f.open},         {"overdue", f.overdue},
          {"reply_hours_median", f.median_hours()}, {"reply_hours_p90", f.p90_hours()}};
}

}  // namespace

std::string case_report::to_json() const {
  auto group = [](const std::map<std::string, figures>& m) {
    json o = json::object();
    for (const auto& [k, f] : m) o[k] = figures_json(f);
    return o;
  };
  auto list = [](const std::vector<concentrated_issue>& v) {
    json a = json::array();
    for (const auto& i : v) a.push_back(json::parse(i.to_json()));
    return a;
  };
  return dump(json{{"from", time_or_empty(from_ms)}, {"to", time_or_empty(to_ms)},
                   {"at", time_or_empty(at_ms)}, {"total", figures_json(total)},
                   {"by_unit", group(by_unit)}, {"by_category", group(by_category)},
                   {"by_topic", group(by_topic)}, {"concentrated_issues", list(issues)},
                   {"same_text_issues", list(same_text)},
                   {"unmatched_replies", unmatched_replies}});
}

std::string case_report::to_markdown() const {
  std::string out = "# 留言办理报告 Mailbox cases " + time_or_empty(from_ms) + " – " + time_or_empty(to_ms) +
                    "\n\nStates as of " + time_or_empty(at_ms) + ".\n";
  auto row = [](const std::string& name, const figures& f) {
    return "| " + name + " | " + std::to_string(f.received) + " | " + std::to_string(f.on_time) + " | " +
           std::to_string(f.late) + " | " + std::to_string(f.open) + " | " + std::to_string(f.overdue) +
           " | " + hours_text(f.median_hours()) + " | " + hours_text(f.p90_hours()) + " |\n";
  };
  const std::string head =
      "| | received | answered on time | answered late | open | overdue | reply h median | reply h p90 |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  out += "\n## Total\n\n" + head + row("all", total);
  for (const auto& [title, m] : {std::pair<const char*, const std::map<std::string, figures>*>{"unit", &by_unit},
                                 {"category", &by_category}, {"topic", &by_topic}}) {
    out += std::string("\n## By ") + title + "\n\n" + head;
    for (const auto& [k, f] : *m) out += row(k, f);
  }
  auto section = [&](const std::string& title, const std::vector<concentrated_issue>& list) {
    out += "\n## " + title + "\n\n";
    if (list.empty()) out += "无 None.\n";
    for (const auto& i : list) {
      out += "- **" + i.what + "** (" + i.by + (i.topic.empty() ? "" : ", " + i.topic) + "): " +
             std::to_string(i.count) + " messages, " + time_or_empty(i.first_ms) + " – " + time_or_empty(i.last_ms) + "\n";
      for (size_t e = 0; e < i.examples.size() && e < 3; ++e) out += "  - " + i.examples[e] + "\n";
    }
  };
  section("留言集中反映问题 Concentrated issues in mailbox messages (plan item 11)", issues);
  section("同文多发 Copied or coordinated posts and news (plan item 12)", same_text);
  if (unmatched_replies > 0)
    out += "\n" + std::to_string(unmatched_replies) + " replies name a message that is not known (yet).\n";
  return out;
}

std::string case_report::to_csv() const {
  std::string out = "group,name,received,answered_on_time,answered_late,open,overdue,reply_hours_median,reply_hours_p90\n";
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  auto row = [&](const char* group, const std::string& name, const figures& f) {
    out += std::string(group) + "," + quote(name) + "," + std::to_string(f.received) + "," +
           std::to_string(f.on_time) + "," + std::to_string(f.late) + "," + std::to_string(f.open) + "," +
           std::to_string(f.overdue) + "," + hours_text(f.median_hours()) + "," + hours_text(f.p90_hours()) + "\n";
  };
  row("total", "all", total);
  for (const auto& [k, f] : by_unit) row("unit", k, f);
  for (const auto& [k, f] : by_category) row("category", k, f);
  for (const auto& [k, f] : by_topic) row("topic", k, f);
  for (const auto& i : issues) out += "issue," + quote(i.by + ": " + i.what) + "," + std::to_string(i.count) + ",,,,,,\n";
  for (const auto& i : same_text) out += "same_text," + quote(i.what) + "," + std::to_string(i.count) + ",,,,,,\n";
  return out;
}

}  // namespace yuqing::mailbox
