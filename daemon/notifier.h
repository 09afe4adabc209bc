// notifier: delivers alert notifications to Alertmanager (API v2) and to a webhook.
//
// Operation: notify() queues; one thread delivers. Alertmanager gets every active alert
// with endsAt four resend intervals ahead, sent again every resend interval while it is
// active (Alertmanager forgets alerts that stop coming), and once more with endsAt set
// when it resolves. Labels are ASCII names (Alertmanager 0.25 refuses others): alertname,
// level, topic, plan_item, unit (the plan's first lead unit), set, rule, kind; the state,
// the Chinese summary, the units and the examples go into annotations (labels are the
// alert's identity there: an escalated level ends the old one and starts a new one). The webhook gets
// each notification as {"reason", "detail", "alert"}.
//
// Errors: a sink that fails is retried three times (0.5, 1, 2 s), then the notification
// is counted as failed for that sink and logged (one line per failure streak); the
// Alertmanager resend brings it back anyway.
//
// Threads: notify() from any thread; start()/stop() from the owner.
#pragma once

#include <memory>
#include <string>

#include "alerting/evaluator.h"
#include "config/result.h"
#include "daemon/probe.h"

namespace yuqing::daemon {

struct notifier_options {
  std::string alertmanager_url;  // empty: none
  int resend_seconds = 60;
  std::string webhook_url;       // empty: none
  std::string api_base;          // http://host:port of this daemon, for generatorURL
};

class notifier {
 public:
  notifier(notifier_options options, alerting_probe& probe);
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  // Checks the URLs and starts the delivery thread.
  status start();
  void stop();
  void notify(const alerting::notification& n);

  // The Alertmanager API v2 body for these alerts (exposed for tests).
  static std::string alertmanager_body(const std::vector<alerting::alert>& alerts, int64_t now_ms,
                                       int resend_seconds, const std::string& api_base);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::daemon
