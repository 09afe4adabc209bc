// The records of alerting: what a matched message tells the evaluator (hit_event, the
// value of the hits topic), and an alert with its two states and audit trail. Both travel
// as JSON (hits topic, alerts topic, HTTP, RocksDB).
//
// An alert has a condition (firing while its rule's condition holds, cleared after) and,
// apart from it, a duty state: the command center's task 签收 → 处置 → 办结, that is open →
// acknowledged → handled → closed. The condition clearing closes nothing by itself.
//
// Threads: plain values. Errors: from_json() returns nullopt on anything malformed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/rules.h"
#include "storage/records.h"

namespace yuqing::alerting {

// One matched message of one keyword set, as published on the hits topic (keyed by the
// set's policy topic, so one evaluator owns each topic's windows).
struct hit_event {
  struct rule_hit {
    std::string rule;
    severity level = severity::warning;
    std::string excerpt;  // matched text highlighted in 【】
  };
  std::string topic;  // policy topic
  std::string set_id, set_version;
  int plan_item = 0;
  std::string message_key;
  int64_t time_ms = 0;  // message time
  std::string author, source, channel, title;
  std::vector<rule_hit> rules;

  // Takes the message's part (key, time, author, source, channel, title) from a stored message.
  void set_message(const storage::message_record& m);

  std::string to_json() const;
  static std::optional<hit_event> from_json(std::string_view text);
};

// The duty state. (Records of earlier versions say firing for open, resolved for closed.)
enum class alert_state { open, acknowledged, handled, closed };
const char* to_string(alert_state s);
std::optional<alert_state> parse_alert_state(const std::string& s);

// The condition of the alert's rule (mailbox alerts: of their case), independent of people.
enum class alert_condition { firing, cleared };
const char* to_string(alert_condition c);
std::optional<alert_condition> parse_alert_condition(const std::string& s);

struct audit_entry {
  int64_t time_ms = 0;
  std::string action;  // fired, notified, escalated, clock, acknowledged, handled, cleared, fired_again, closed
  std::string who;     // "yuqing" for the daemon's own steps
  std::string note;
};

struct alert_example {
  std::string message_key;
  int64_t time_ms = 0;
  std::string rule;
  std::string author;
  std::string text;  // highlighted excerpt
};

struct alert {
  std::string id;           // unique per firing
  std::string fingerprint;  // set/alert rule/kind/topic[/keyword rule]: one alert at a time
  alert_level level = alert_level::yellow;
  std::string kind;         // immediate, threshold, spike, spread; mailbox: due_soon, overdue, concentrated_issue
  std::string origin = "rules";  // rules: the sets' alert rules; mailbox: raised for mailbox cases
  std::string topic, set_id, alert_rule, keyword_rule;
  std::string set_name;     // the set's (Chinese) name, for the summary; empty: the topic
  int plan_item = 0;
  std::string plan_text;
  std::vector<std::string> lead_units, cooperating_units;
  alert_state state = alert_state::open;
  alert_condition condition = alert_condition::firing;
  uint64_t count = 0;       // messages in the window (immediate: qualifying hits since it fired)
  uint64_t distinct = 0;    // spread: distinct authors or sources in the window
  std::string distinct_by;  // spread: author | source (empty in records of earlier versions)
  double baseline = 0;      // spike: messages expected in the window from the baseline
  int64_t window_ms = 0;
  int64_t first_hit_ms = 0, last_hit_ms = 0;
  int64_t fired_ms = 0, last_notified_ms = 0;
  int64_t cleared_ms = 0;       // when the condition last cleared (0: firing)
  int64_t acknowledged_ms = 0, handled_ms = 0, closed_ms = 0;  // 0: not (yet)
  bool escalated = false;
  int64_t release_by_ms = 0;  // authoritative information due (red, orange); 0: none
  int64_t respond_by_ms = 0;  // response due
  std::vector<std::string> clocks_warned;  // "release_soon", "release_missed", ...
  std::vector<alert_example> examples;     // at most five
  std::vector<audit_entry> audit;
  std::map<std::string, std::string> labels;  // extra labels for sinks (mailbox: case, category)

  bool active() const { return state != alert_state::closed; }
  // Nobody has signed for it yet: Alertmanager shows it firing, repeats and escalation run.
  bool unattended() const { return state == alert_state::open; }
  // The person of the latest audit entry with this action; empty: none.
  std::string who(const std::string& action) const;
  std::string summary() const;  // one line in Chinese for the command center
  std::string to_json() const;
  static std::optional<alert> from_json(std::string_view text);
};

}  // namespace yuqing::alerting
