// mailbox::probe: the metrics of the governor's-mailbox cases (yuqing_mailbox_*).
//
// Concurrency: any thread (the gauge maps have a mutex).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>

#include "metrics/registry.h"

namespace yuqing::mailbox {

// Mailbox cases: cases by state, open and overdue cases by unit, reply times, case
// alerts, and what text clustering costs.
class probe {
 public:
  explicit probe(metrics::registry& m);
  // Replaces the case gauges: cases by state, open and overdue by unit, unmatched replies.
  void cases(const std::map<std::string, int64_t>& by_state, const std::map<std::string, int64_t>& open_by_unit,
             const std::map<std::string, int64_t>& overdue_by_unit, int64_t unmatched_replies);
  void replied(double seconds, bool on_time);
  void alert(const std::string& kind);
  void clustered(uint64_t messages, double seconds, size_t tracked);
  // Deadline checks that wait for the replies to be read, by reason (replies_behind,
  // replies_not_assigned).
  void deadline_checks_waiting(const std::map<std::string, int64_t>& by_reason);

 private:
  void set_all(prometheus::Family<prometheus::Gauge>& f, std::map<std::string, prometheus::Gauge*>& children,
               const char* label, const std::map<std::string, int64_t>& values);
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Family<prometheus::Gauge>& open_;
  prometheus::Family<prometheus::Gauge>& overdue_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Family<prometheus::Counter>& replies_;
  prometheus::Histogram* reply_seconds_;
  prometheus::Gauge* unmatched_;
  prometheus::Counter* clustered_;
  prometheus::Counter* cluster_seconds_;
  prometheus::Gauge* tracked_;
  prometheus::Family<prometheus::Gauge>& waiting_;
  std::mutex mu_;
  std::map<std::string, prometheus::Gauge*> state_children_, open_children_, overdue_children_, waiting_children_;
};

}  // namespace yuqing::mailbox
