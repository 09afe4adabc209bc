// components: the daemon's parts as the lifecycle (app.cc) builds them, in start order,
// and the HTTP routes that read them (routes_core.cc: status, probes, hits, messages;
// routes_tuning.cc: keyword sets, tests, backtests, rules; routes_alerts.cc;
// routes_mailbox.cc). A part is null until its start step ran (and when it is off).
//
// Threads: the routes run on the HTTP thread; the parts they call lock themselves.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "alerting/notifier.h"
#include "alerting/probe.h"
#include "alerting/service.h"
#include "config/clock.h"
#include "config/config.h"
#include "config/plan.h"
#include "daemon/briefing_service.h"
#include "daemon/risk_service.h"
#include "daemon/routes_precision.h"
#include "http/server.h"
#include "ingest/ingest.h"
#include "ingest/probe.h"
#include "kafka/kafka.h"
#include "mailbox/mailbox.h"
#include "mailbox/probe.h"
#include "metrics/registry.h"
#include "sets/backtest.h"
#include "sets/keyword_sets.h"
#include "sets/probe.h"
#include "storage/store.h"

namespace yuqing::daemon {

extern const char* const version;

struct components {
  explicit components(config::daemon_config c) : cfg(std::move(c)) {}

  config::daemon_config cfg;
  system_clock clk;
  int64_t started_ms = clk.now_ms();
  std::shared_ptr<const config::plan> plan;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<kafka::embedded_kafka> embedded;
  std::string bootstrap;
  metrics::registry registry;
  std::unique_ptr<sets::probe> probe;
  std::unique_ptr<ingest::probe> in_probe;
  std::unique_ptr<http::http_server> http;
  std::unique_ptr<ingest::service> consumer;
  std::unique_ptr<sets::keyword_sets> sets;
  std::unique_ptr<sets::backtest_jobs> backtests;
  std::unique_ptr<alerting::probe> al_probe;
  std::unique_ptr<alerting::notifier> alert_sink;
  std::shared_ptr<http::event_stream> alert_stream;
  std::unique_ptr<alerting::service> alerts_svc;
  std::unique_ptr<mailbox::probe> mb_probe;
  std::unique_ptr<mailbox::service> cases;
  std::unique_ptr<precision_api> precision;  // verdicts, precision, suggestions (issue 23)
  std::unique_ptr<risk_service> risk;
  std::unique_ptr<briefing_service> briefings;  // the 舆情简报 (issue 24 item 4)

  std::shared_ptr<const matchers::matcher> current_sets() const { return sets->current(); }

  nlohmann::json status_json() const;
  // The sets in force with their versions and reload state (GET /api/v1/keyword-sets).
  nlohmann::json keyword_sets_json() const;
  // The noisiest rules since start (GET /api/v1/rules).
  nlohmann::json rules_json(size_t top) const;
  // GET /healthz, /readyz, /metrics, /api/v1/status, /hits, /messages/{key} (routes_core.cc).
  void add_routes();
  // Keyword sets, test, backtest, rules (routes_tuning.cc).
  void add_tuning_routes();
  void add_test_routes();
  // Alerts: list, one, acknowledge, handle, close (routes_alerts.cc).
  void add_alert_routes();
  // Mailbox cases and the period report (routes_mailbox.cc).
  void add_mailbox_routes();
};

}  // namespace yuqing::daemon
