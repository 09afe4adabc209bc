// backtest_alerts: the alerts a keyword set would have raised on the stored messages (the
// backtest's second half, as elastalert-test-rule shows them beside the matches).
//
// Operation: add() takes the set's hits on one message during the backtest's scan (in key
// order); alerts() sorts the hit events by message time and runs them through a fresh
// alerting::evaluator with the set's alert rules and default settings, as the daemon would
// have live with nobody acknowledging: every firing (and firing again after its condition
// cleared) is one simulated alert. Nothing is notified or stored.
//
// Concurrency: one instance per backtest thread. Errors: none (an empty list).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/alert.h"
#include "matchers/matcher.h"
#include "storage/records.h"

namespace yuqing::sets {

struct simulated_alert {
  std::string alert_rule, kind, level, keyword_rule, summary;
  int64_t fired_ms = 0;
  uint64_t count = 0;
  bool again = false;   // fired again after its condition had cleared
  std::string example;  // the newest example's highlighted text
};

class alert_simulation {
 public:
  explicit alert_simulation(const matchers::keyword_set& set);
  // The set's hits on message m (hits of other sets are ignored).
  void add(const storage::message_record& m, const std::vector<matchers::hit>& hits);
  std::vector<simulated_alert> alerts() const;
  size_t events() const { return events_.size(); }

 private:
  const matchers::keyword_set& set_;
  std::vector<alerting::alert_rule> rules_;  // the set's alert rules
  std::vector<alerting::hit_event> events_;
};

}  // namespace yuqing::sets
