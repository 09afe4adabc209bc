// notifier: delivers alert notifications to Alertmanager (API v2) and to a webhook.
//
// Operation: notify() queues; one thread delivers. Alertmanager gets every open alert (one
// nobody has acknowledged yet, whatever its condition) with endsAt four resend intervals
// ahead, sent again every resend interval while it is open (Alertmanager forgets alerts
// that stop coming), and once more with endsAt set to when it was acknowledged (or handled,
// or closed): from then on Alertmanager shows it resolved, and the annotations say who
// signed for it. Labels are ASCII names (Alertmanager 0.25 refuses others): alertname,
// alert_id (so that every yuqing alert is an Alertmanager alert of its own), level, topic,
// plan_item, unit (the real unit of the plan's first lead unit, from the unit directory),
// receiver (that unit's Alertmanager receiver; none), set, rule, kind; the duty state, the
// condition, who acknowledged and handled it, the Chinese summary, the units and the
// examples go into annotations (labels are the alert's identity there: an escalated level
// ends the old one and starts a new one). The webhook gets each notification as
// {"reason", "detail", "alert"}.
//
// Errors: a sink that fails is retried three times (0.5, 1, 2 s), then the notification
// is counted as failed for that sink and logged (one line per failure streak); the
// Alertmanager resend brings it back anyway.
//
// Threads: notify() from any thread; start()/stop() from the owner.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "alerting/evaluator.h"
#include "config/result.h"
#include "alerting/probe.h"

namespace yuqing::alerting {

// Where a plan unit or role goes: the real unit and its Alertmanager receiver.
struct unit_route {
  std::string unit, receiver;
};
using unit_directory = std::map<std::string, unit_route>;  // by plan unit or role, and real name

struct notifier_options {
  std::string alertmanager_url;  // empty: none
  int resend_seconds = 60;
  std::string webhook_url;       // empty: none
  std::string api_base;          // http://host:port of this daemon, for generatorURL
  unit_directory units;          // configuration `units`
};

class notifier {
 public:
  notifier(notifier_options options, alerting::probe& probe);
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  // Checks the URLs and starts the delivery thread.
  status start();
  void stop();
  void notify(const alerting::notification& n);

  // The Alertmanager API v2 body for these alerts (exposed for tests).
  static std::string alertmanager_body(const std::vector<alerting::alert>& alerts, int64_t now_ms,
                                       int resend_seconds, const std::string& api_base,
                                       const unit_directory& units = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::alerting
