// metrics: the daemon's one registry. Each component owns its probe (ingest/probe.h,
// alerting/probe.h, mailbox/probe.h, sets/probe.h) and registers its families here; families
// computed at scrape time come in as collectors (storage/probe.h, http/probe.h, the
// process's from /proc).
//
// Concurrency: prometheus-cpp metrics are thread-safe; collectors run on the scraping thread.
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace yuqing::metrics {

class registry {
 public:
  registry();
  prometheus::Registry& prometheus_registry() { return *registry_; }
  // Families read afresh at each scrape, on the scraping thread: the process's (CPU,
  // memory, descriptors, start time, from /proc) from the start, then any added (the
  // store's); fn must stay callable as long as this registry is exposed.
  using collector = std::function<std::vector<prometheus::MetricFamily>()>;
  void add_collector(collector fn);
  // Prometheus text exposition of everything registered, then of every collector.
  std::string expose() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::vector<collector> collectors_;
};

// Helpers for collectors that build families at scrape time.
prometheus::MetricFamily& add_family(std::vector<prometheus::MetricFamily>& out, const char* name,
                                     const char* help, prometheus::MetricType type);
void add_value(prometheus::MetricFamily& f, double v, std::vector<prometheus::ClientMetric::Label> labels = {});

// yuqing_build_info{version} and yuqing_start_time_seconds.
void add_build_info(registry& r, const std::string& version, int64_t start_time_ms);

}  // namespace yuqing::metrics
