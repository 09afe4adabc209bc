// alerting::probe: the metrics of the alert evaluator and its sinks (yuqing_alerts_*).
//
// Concurrency: any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <mutex>
#include <string>

#include "metrics/registry.h"

namespace yuqing::alerting {

// Alerting: alerts fired (every known {kind, level} from zero), alerts not closed by duty
// state, time to acknowledge, notifications per sink, hit-to-alert latency.
class probe {
 public:
  explicit probe(metrics::registry& m);
  void fired(const std::string& level, const std::string& kind);
  // Replaces the active-alert gauges with these counts by (level, topic, duty state).
  void active(const std::map<std::array<std::string, 3>, int>& counts);
  // From firing to acknowledgement.
  void acknowledged(const std::string& level, double seconds);
  void sent(const std::string& sink) { family_child(sent_, sink).Increment(); }
  void failed(const std::string& sink) { family_child(failed_, sink).Increment(); }
  void latency(double seconds) { latency_->Observe(seconds); }
  void invalid_event() { invalid_->Increment(); }

 private:
  prometheus::Counter& family_child(prometheus::Family<prometheus::Counter>& f, const std::string& sink);
  prometheus::Family<prometheus::Counter>& fired_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Histogram* latency_;
  prometheus::Family<prometheus::Histogram>& to_ack_;
  prometheus::Counter* invalid_;
  std::mutex mu_;
  std::map<std::array<std::string, 3>, prometheus::Gauge*> active_children_;
};

}  // namespace yuqing::alerting
