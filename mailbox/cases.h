// cases: governor's-mailbox cases (plan item 11) — the record of a mailbox message and its
// reply, the reply deadline per category, the state of a case at a given time, and the
// report over a period.
//
// A case is opened by a message of a `mailbox` channel and closed by a message of a
// `mailbox-reply` channel that names the same id; either may come first. Both are kept as
// they arrived (column family `mailbox`: "c" id, "r" id), and a case is their join, so a
// replay rewrites the same keys and the order of arrival does not matter.
//
// Threads: plain values and pure functions. Errors: decode() returns nullopt on anything
// malformed; parse_deadline_rule() says what is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/result.h"
#include "mailbox/calendar.h"

namespace yuqing::mailbox {

// How long a category has for its reply: working days ("15d") or working hours ("36h").
struct deadline_rule {
  int amount = 15;
  bool hours = false;
  std::string text() const { return std::to_string(amount) + (hours ? "h" : "d"); }
  int64_t deadline(const calendar& cal, int64_t received_ms) const {
    return hours ? cal.add_working_hours(received_ms, amount) : cal.add_working_days(received_ms, amount);
  }
};
result<deadline_rule> parse_deadline_rule(std::string_view s);

// Deadlines by category (咨询, 求助, 建议, 投诉, 举报, ...), with one for any other.
struct deadline_policy {
  std::map<std::string, deadline_rule> by_category;
  deadline_rule otherwise;
  const deadline_rule& rule_for(const std::string& category) const {
    auto it = by_category.find(category);
    return it == by_category.end() ? otherwise : it->second;
  }
};

struct case_reply {
  std::string unit;
  int64_t time_ms = 0;
  std::string message_key;
  std::string excerpt;
};

struct mailbox_case {
  std::string id;  // the message id, which replies name
  // Opening message (absent while only the reply is known).
  bool opened = false;
  std::string message_key, channel;
  int64_t received_ms = 0;
  std::string category, region, author, title, excerpt;
  std::vector<std::string> topics, sets, rules;  // rules as set/rule
  std::vector<std::string> units;                // responsible units
  std::string deadline_text;                     // the rule that set it ("15d")
  int64_t deadline_ms = 0;
  std::optional<case_reply> reply;
  std::map<std::string, std::string> alerts;     // due_soon / overdue -> alert id

  // open: waiting and within the deadline; overdue: waiting past it; closed: replied.
  std::string state(int64_t now_ms) const;
  bool due_soon(int64_t now_ms, int64_t lead_ms) const {
    return opened && !reply && now_ms < deadline_ms && now_ms >= deadline_ms - lead_ms;
  }
  bool on_time() const { return reply && reply->time_ms <= deadline_ms; }

  std::string to_json(int64_t now_ms) const;

  // Stored forms: the opening ("c") and the reply ("r") records.
  std::string encode_opening() const;
  static std::optional<mailbox_case> decode_opening(std::string_view value);
  static std::string encode_reply(const case_reply& r);
  static std::optional<case_reply> decode_reply(std::string_view value);
};

// Keys of column family `mailbox`.
namespace mailbox_keys {
std::string opening(const std::string& id);                       // "c\0" id
std::string reply(const std::string& id);                         // "r\0" id
std::string alert(const std::string& id, const std::string& kind);  // "a\0" id "\0" kind
std::string member(int64_t time_ms, const std::string& message_key);  // "m\0" be64 key
std::string issue(int64_t time_ms, const std::string& fingerprint);   // "i\0" be64 fp
inline constexpr std::string_view openings = {"c\0", 2}, replies = {"r\0", 2}, alerts = {"a\0", 2},
                                  members = {"m\0", 2}, issues = {"i\0", 2};
}  // namespace mailbox_keys

// A concentrated issue (many messages on one thing), as found and kept for reports.
struct concentrated_issue {
  std::string fingerprint;
  std::string by;     // topic, category, text (a mailbox cluster) or same_text (同文多发: posts and news)
  std::string what;   // the topic, the category, or the representative text
  std::string topic;  // same_text: the policy topic its messages hit
  int64_t first_ms = 0, last_ms = 0, fired_ms = 0;
  uint64_t count = 0;
  uint64_t previous = 0;  // messages in the period before (topic, category)
  bool active = true;     // false once the messages no longer bear it out
  std::vector<std::string> members;  // message keys (text: every member; others: examples)
  std::vector<std::string> examples;  // texts
  std::string to_json() const;
  static std::optional<concentrated_issue> from_json(std::string_view text);
};

// The figures of a period's report.
struct case_report {
  struct figures {
    uint64_t received = 0, on_time = 0, late = 0, open = 0, overdue = 0;
    std::vector<double> reply_hours;  // answered cases
    double median_hours() const;
    double p90_hours() const;
  };
  int64_t from_ms = 0, to_ms = 0, at_ms = 0;
  figures total;
  std::map<std::string, figures> by_unit, by_category, by_topic;
  std::vector<concentrated_issue> issues;     // mailbox concentrated issues (item 11), largest first
  std::vector<concentrated_issue> same_text;  // 同文多发 in posts and news (item 12), largest first
  uint64_t unmatched_replies = 0;          // replies whose message is not known

  void add(const mailbox_case& c);  // a case received in the period
  std::string to_json() const;
  std::string to_markdown() const;
  std::string to_csv() const;
};

}  // namespace yuqing::mailbox
