#include "alerting/probe.h"

namespace yuqing::alerting {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

probe::probe(metrics::registry& m)
    : fired_(BuildCounter().Name("yuqing_alerts_fired_total")
                 .Help("Alerts fired, by level and kind").Register(m.prometheus_registry())),
      active_(BuildGauge().Name("yuqing_alerts_active")
                  .Help("Alerts not closed, by level, policy topic and duty state (open, "
                        "acknowledged, handled)").Register(m.prometheus_registry())),
      sent_(BuildCounter().Name("yuqing_alert_notifications_total")
                .Help("Alert notifications delivered, by sink").Register(m.prometheus_registry())),
      failed_(BuildCounter().Name("yuqing_alert_notification_failures_total")
                  .Help("Alert notifications a sink did not take (after retries), by sink")
                  .Register(m.prometheus_registry())),
      to_ack_(BuildHistogram().Name("yuqing_alert_acknowledge_seconds")
                  .Help("From an alert firing to a person acknowledging it, by level")
                  .Register(m.prometheus_registry())) {
  latency_ = &BuildHistogram().Name("yuqing_alert_latency_seconds")
                  .Help("From a hit reaching the hits topic to its alert being notified")
                  .Register(m.prometheus_registry())
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                   0.5, 1, 2.5, 5, 10});
  for (const auto& level : {"blue", "yellow", "orange", "red"}) {
    for (const auto& kind : {"immediate", "threshold", "spike", "spread", "due_soon", "overdue",
                             "concentrated_issue"})
      fired_.Add({{"level", level}, {"kind", kind}});
    to_ack_.Add({{"level", level}}, prometheus::Histogram::BucketBoundaries{
                                        60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400});
  }
  invalid_ = &BuildCounter().Name("yuqing_alerting_invalid_events_total")
                  .Help("Hit events on the hits topic that could not be read (skipped)")
                  .Register(m.prometheus_registry()).Add({});
  for (const auto& sink : {"kafka", "alertmanager", "webhook"}) {
    sent_.Add({{"sink", sink}});
    failed_.Add({{"sink", sink}});
  }
}

void probe::fired(const std::string& level, const std::string& kind) {
  std::lock_guard lock(mu_);
  fired_.Add({{"level", level}, {"kind", kind}}).Increment();
}

void probe::active(const std::map<std::array<std::string, 3>, int>& counts) {
  std::lock_guard lock(mu_);
  for (auto& [key, g] : active_children_) g->Set(0);
  for (const auto& [key, n] : counts) {
    auto& g = active_children_[key];
    if (!g) g = &active_.Add({{"level", key[0]}, {"topic", key[1]}, {"state", key[2]}});
    g->Set(n);
  }
}

void probe::acknowledged(const std::string& level, double seconds) {
  std::lock_guard lock(mu_);
  to_ack_.Add({{"level", level}}, prometheus::Histogram::BucketBoundaries{
                                      60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400})
      .Observe(seconds);
}

prometheus::Counter& probe::family_child(prometheus::Family<prometheus::Counter>& f,
                                                  const std::string& sink) {
  return f.Add({{"sink", sink}});
}

}  // namespace yuqing::alerting
