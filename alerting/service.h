// alerting::service: the alert evaluator of this daemon, fed from the hits topic.
//
// Operation: one thread consumes the hits topic in the group <kafka.group_id>.alerting,
// so that one instance owns each policy topic's windows, and evaluates each hit event
// against the alert rules of its set as the keyword sets in force define them. Every
// alert change is kept in the store (column family alerts), published to the alerts topic
// (keyed by fingerprint) and confirmed, then handed to the notifier and the event stream;
// only after that do the evaluated offsets move. The committed offset of a partition is
// the oldest hit a window still holds, and its commit metadata says how far evaluation
// went: whoever gets the partition next (this daemon after a restart, another after a
// rebalance) replays the windows without notifying, then goes on live. Active alerts come
// back from the store and the alerts topic, for the policy topics the partitions carry.
//
// Threads: its own consumer thread plus the HTTP thread for acknowledge/handle/alerts();
// one mutex guards the evaluator. Errors: a hit event that cannot be read is counted and
// skipped; a failed alert publication is logged and the store keeps the alert.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "config/clock.h"
#include "config/config.h"
#include "http/server.h"
#include "alerting/notifier.h"
#include "alerting/probe.h"
#include "storage/store.h"

namespace yuqing::alerting {

// Every alert kept in the store (column family alerts), as JSON; readable offline too.
result<std::vector<std::string>> stored_alert_texts(const storage::store& s);

// Filters of alerts(); empty: any. unit: a lead or cooperating unit, or the unit label.
struct alert_query {
  std::string state, condition, level, topic, unit, kind;
  size_t limit = 100;
};

class service {
 public:
  // sets: the alert rules in force (the keyword sets' rule book), read at each hit event.
  service(const config::daemon_config& cfg, std::string bootstrap, storage::store& store,
          alerting::rules_source sets, std::shared_ptr<const config::plan> plan,
          alerting::probe& probe, notifier& sink, std::shared_ptr<http::event_stream> stream,
          const clock& clk);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  status start();
  void stop();

  result<alerting::alert> acknowledge(const std::string& id, const std::string& who,
                                      const std::string& note);
  result<alerting::alert> handle(const std::string& id, const std::string& who,
                                 const std::string& note);
  // Alerts decided elsewhere (mailbox cases): fired, or their condition cleared, through
  // the evaluator and delivered like every other alert. Call after start().
  void raise(alerting::alert a);
  // Clears the condition of the alert with this fingerprint (it closes as the evaluator's
  // rules say). False when no alert that is not closed has it (not restored yet, or not here).
  bool resolve(const std::string& fingerprint, const std::string& note);

  // Alerts of this instance from the store, newest first.
  result<std::vector<alerting::alert>> alerts(const alert_query& q) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::alerting
