// evaluator: the alert rules of the keyword sets over the stream of hit events.
//
// Operation: every alert rule of a set has, per policy topic, a series: the matching
// messages within its window (deduplicated by message key, so a replayed hit counts once),
// ordered by message time. A hit is evaluated at its message time, so the same stream
// fires at the same message whatever the arrival pace, restarts included.
//
// Condition and duty state are kept apart (alert.h). tick() clears the condition of an
// alert whose window has stayed clear for the rule's resolve_after, and sets it firing
// again when the window holds again; it closes an alert that was handled once its
// condition has cleared, and one of the levels that may close unattended (blue and yellow
// by default) when its condition has been clear for the grace time. Every other alert
// stays open, listed and notified: repeats of unacknowledged alerts, escalation of red and
// orange ones nobody acknowledged, and the response clocks (国办发〔2016〕61号: information
// released within 5 h for major events, a response within 24 h for major ones and 48 h for
// the others; all configurable) run whatever the condition.
//
// Clocks: people's clocks (repeat, escalation, response clocks, grace) run on the wall
// clock. A window clears on its partition's message time: the newest message time read
// from the partition, moved on by the wall time since it was read, and never past the
// wall clock. Live, that is the wall clock; reading a backlog (after an outage), windows
// clear as the messages of that time would have cleared them.
//
// One alert per fingerprint (set, alert rule, kind, topic; immediate alerts also per keyword
// rule) until it is closed: further hits update it, they fire nothing new.
//
// Restart and hand-over: restore() puts back the alerts known from before; hits replayed
// with replay=true rebuild the windows and never notify (they were evaluated before).
//
// Threads: not thread-safe; the owner serializes calls. Errors: acknowledge()/handle()
// return an error for an unknown alert or one past that step.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "alerting/alert.h"
#include "config/plan.h"
#include "config/result.h"

namespace yuqing::alerting {

struct settings {
  int64_t repeat_ms = 3600 * 1000;         // re-notify an unacknowledged alert
  int64_t escalate_ms = 15 * 60 * 1000;    // red/orange not acknowledged: escalate
  int64_t clock_warning_ms = 3600 * 1000;  // warn this long before a response clock runs out
  int64_t release_ms = 5 * 3600 * 1000;    // red, orange: authoritative information
  int64_t respond_major_ms = 24 * 3600 * 1000;  // red, orange
  int64_t respond_other_ms = 48 * 3600 * 1000;  // yellow, blue
  int64_t keep_closed_ms = 24 * 3600 * 1000;    // closed alerts kept in memory
  // Levels whose alerts close without a person once their condition has been clear for
  // close_grace_ms.
  std::vector<alert_level> close_unattended = {alert_level::blue, alert_level::yellow};
  int64_t close_grace_ms = 30 * 60 * 1000;
};

// Why a notification goes out.
// cleared / fired_again: the condition changed; closed: the duty state reached its end.
enum class reason { fired, repeat, escalated, clock, acknowledged, handled, cleared, fired_again, closed };
const char* to_string(reason r);

struct notification {
  reason why;
  std::string detail;  // for clocks: release_soon, release_missed, respond_soon, respond_missed
  alert snapshot;
};

// Where a hit came from on the hits topic (so the owner knows which offsets windows need).
struct position {
  int32_t partition = 0;
  int64_t offset = -1;
};

class evaluator {
 public:
  explicit evaluator(settings s, std::shared_ptr<const config::plan> plan = nullptr);

  // Evaluates one hit event against its set's alert rules at the event's time. set_name:
  // the set's name for the alerts' summaries (empty: the policy topic).
  std::vector<notification> on_hit(const hit_event& e, const std::vector<alert_rule>& rules,
                                   int64_t now_ms, bool replay = false, position pos = {},
                                   const std::string& set_name = "");
  std::vector<notification> tick(int64_t now_ms);

  result<notification> acknowledge(const std::string& id, const std::string& who,
                                   const std::string& note, int64_t now_ms);
  result<notification> handle(const std::string& id, const std::string& who,
                              const std::string& note, int64_t now_ms);

  // An alert from before a restart or hand-over; an active one takes its series back.
  void restore(const alert& a);

  // Alerts decided elsewhere (origin other than "rules": mailbox cases). raise() fires `a`
  // unless an alert with its fingerprint is not closed, which then takes a's count, last
  // hit and examples (and fires again if its condition had cleared). They go through the
  // same duty states, but their condition clears only through resolve(), never by a window.
  std::vector<notification> raise(alert a, int64_t now_ms);
  // Clears the condition of the alert with this fingerprint; nullopt when there is none
  // that is not closed (not restored yet, or not here).
  std::optional<std::vector<notification>> resolve(const std::string& fingerprint,
                                                   const std::string& note, int64_t now_ms);

  // Alerts in memory (those not closed and those closed within keep_closed_ms).
  std::vector<alert> alerts() const;
  const alert* find(const std::string& id) const;
  // The smallest offset of each partition that a window still holds (partitions whose
  // windows hold nothing are absent). One pass over every window.
  std::map<int32_t, int64_t> oldest_needed() const;
  // Drops the windows fed from these partitions (they went to another instance).
  void forget_partitions(const std::vector<int32_t>& partitions);
  // The time at which the windows fed from this partition are cleared (see Clocks above).
  int64_t window_clock(int32_t partition, int64_t now_ms) const;

 private:
  struct event {
    int64_t time_ms;
    std::string key, who;
    std::string rule, excerpt, author;
    position pos;
  };
  struct series {
    alert_rule rule;
    std::string fingerprint, topic, set_id, keyword_rule, set_name;
    int plan_item = 0;
    int32_t partition = -1;     // of the hits it was fed (-1: not from Kafka)
    std::deque<event> events;  // by time
    std::unordered_set<std::string> keys;
    // Spread rules: the `who` of the events (authors or sources), with how many events
    // carry each, for the distinct count at the newest message without a scan of the window.
    std::unordered_map<std::string, uint32_t> who;
    std::string active;         // id of the active alert; empty: none
    int64_t clear_since = -1;
    bool external = false;      // raised and resolved by its owner (raise/resolve)
  };
  struct state_now {
    bool on = false;
    uint64_t count = 0, distinct = 0;
    double baseline = 0;
  };
  state_now condition(const series& s, int64_t t) const;
  // The series of an alert (made from the alert when its window is not known), which it holds.
  series& series_of(const alert& a);
  void prune(series& s, int64_t t);
  alert& fire(series& s, const state_now& st, int64_t t, int64_t now_ms, const event& trigger);
  std::vector<notification> step(const std::string& id, int64_t now_ms);
  // The condition of s's alert at the window time t; a change is notified.
  void update_condition(series& s, alert& a, int64_t t, int64_t now_ms, std::vector<notification>& out);
  void close(series& s, alert& a, const std::string& note, int64_t now_ms, std::vector<notification>& out);
  std::vector<notification> people_clocks(alert& a, int64_t now_ms);
  struct stream_time {
    int64_t newest_ms;  // newest message time read from the partition
    int64_t read_ms;    // wall time when it was read
  };

  settings settings_;
  std::shared_ptr<const config::plan> plan_;
  std::map<std::string, series> series_;  // by fingerprint
  std::map<std::string, alert> alerts_;   // by id
  std::map<int32_t, stream_time> streams_;  // by partition of the hits topic
};

}  // namespace yuqing::alerting
