// sets::probe: the metrics of the keyword sets in force (yuqing_keyword_set*).
//
// Concurrency: any thread (prometheus-cpp metrics are thread-safe; the per-set map has a mutex).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>

#include "metrics/registry.h"

namespace yuqing::sets {

// The keyword sets in force, their reloads and compile times.
class probe {
 public:
  explicit probe(metrics::registry& m);
  void keyword_sets_loaded(size_t n) { sets_->Set(static_cast<double>(n)); }
  void reload(bool ok) { (ok ? reload_ok_ : reload_failed_)->Increment(); }
  void compiled(double seconds) { compile_seconds_->Observe(seconds); }
  // yuqing_keyword_set_rules{set}, yuqing_keyword_set_loaded_timestamp_seconds{set} and
  // yuqing_keyword_set_version_info{set,version} (1 for the version in force only).
  void set_in_force(const std::string& set, const std::string& version, size_t rules,
                    int64_t loaded_ms);
  void set_removed(const std::string& set);

 private:
  prometheus::Gauge* sets_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_failed_;
  prometheus::Histogram* compile_seconds_;
  prometheus::Family<prometheus::Gauge>* set_rules_;
  prometheus::Family<prometheus::Gauge>* set_loaded_;
  prometheus::Family<prometheus::Gauge>* set_version_;
  struct set_gauges {
    prometheus::Gauge* rules = nullptr;
    prometheus::Gauge* loaded = nullptr;
    prometheus::Gauge* version = nullptr;
    std::string version_label;
  };
  std::mutex mu_;
  std::map<std::string, set_gauges> per_set_;
};

}  // namespace yuqing::sets
