#include "daemon/app.h"

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/json.h"
#include "daemon/api_json.h"
#include "daemon/components.h"
#include "daemon/briefing_service.h"
#include "daemon/routes_console.h"
#include "http/probe.h"
#include "storage/probe.h"

namespace yuqing::daemon {

const char* const version = "0.1.0";  // declared in components.h

namespace {

using nlohmann::json;

// Teardowns of the start-up steps that succeeded, run in reverse by the destructor.
class teardown_stack {
 public:
  ~teardown_stack() { run(); }
  void push(std::string name, std::function<void()> fn) {
    steps_.emplace_back(std::move(name), std::move(fn));
  }
  void run() {
    while (!steps_.empty()) {
      auto [name, fn] = std::move(steps_.back());
      steps_.pop_back();
      spdlog::debug("event=teardown step={}", name);
      fn();
    }
  }

 private:
  std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

}  // namespace

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

struct app::impl : components {
  using components::components;

  // One start-up step: start() and, once it succeeded, stop() (empty: nothing to undo).
  struct step {
    const char* name;
    std::function<status()> start;
    std::function<void()> stop;
  };

  // The start order; the stops run in reverse. Ingest comes last, so that everything it
  // feeds (keyword sets, alerting, mailbox, risk) runs before the first batch.
  std::vector<step> steps() {
    return {
        {"plan", [this] { return start_plan(); }, {}},
        {"storage", [this] { return start_storage(); }, [this] { stop_storage(); }},
        {"keyword_sets", [this] { return start_sets(); }, [this] { sets->stop(); }},
        {"backtests", [this] { return start_backtests(); }, [this] { backtests.reset(); }},
        {"embedded_kafka", [this] { return start_kafka(); }, [this] { stop_kafka(); }},
        {"http", [this] { return start_http(); }, [this] { http->stop(); }},
        {"notifier", [this] { return start_notifier(); }, [this] { if (alert_sink) alert_sink->stop(); }},
        {"alerting", [this] { return start_alerting(); }, [this] { if (alerts_svc) alerts_svc->stop(); }},
        {"mailbox", [this] { return start_mailbox(); }, [this] { if (cases) cases->stop(); }},
        {"risk", [this] { return start_risk(); }, {}},
        {"briefings", [this] { return briefings->start(); }, [this] { briefings->stop(); }},
        {"ingest", [this] { return start_ingest(); }, [this] { stop_ingest(); }},
    };
  }

  status start_plan() {
    auto loaded = config::load_plan(cfg.plan_path);
    if (!loaded) return error{loaded.error_message()};
    plan = std::make_shared<const config::plan>(std::move(loaded.value()));
    spdlog::info("event=plan_loaded items={} file={}", plan->items.size(), cfg.plan_path.string());
    metrics::add_build_info(registry, version, started_ms);
    probe = std::make_unique<sets::probe>(registry);
    in_probe = std::make_unique<ingest::probe>(registry, cfg.channels);
    return ok_status();
  }

  status start_storage() {
    auto opened = storage::store::open({cfg.storage_path, cfg.storage_sync, false,
                                        int64_t{cfg.message_retention_hours} * 3600 * 1000});
    if (!opened) return error{opened.error_message()};
    store = std::move(opened.value());
    // Scraped on the HTTP thread, which stops before the store closes.
    registry.add_collector([this] { return storage::families(store->statistics()); });
    spdlog::info("event=storage_opened path={}", cfg.storage_path.string());
    return ok_status();
  }

  void stop_storage() {
    if (auto st = store->flush(); !st) spdlog::error("event=flush_failed error=\"{}\"", st.error_message());
    store.reset();
    spdlog::info("event=storage_closed");
  }

  status start_sets() {
    sets = std::make_unique<sets::keyword_sets>(
        sets::keyword_sets_options{cfg.keyword_sets_dir, cfg.hs_cache_dir(), cfg.keyword_sets_settle_ms,
                                   cfg.keyword_sets_watch, cfg.keyword_sets_compile_time_limit_ms},
        store.get(), *probe, clk);
    sets->load("startup");
    return sets->start();
  }

  status start_backtests() {
    backtests = std::make_unique<sets::backtest_jobs>(*store);
    precision = std::make_unique<precision_api>(*store, *sets, plan, registry);
    return ok_status();
  }

  status start_kafka() {
    if (!cfg.embedded_kafka()) {
      bootstrap = cfg.kafka_brokers;
      return ok_status();
    }
    auto k = kafka::embedded_kafka::start(cfg.embedded_brokers);
    if (!k) return error{k.error_message()};
    embedded = std::move(k.value());
    for (const auto& ch : cfg.channels) {
      if (auto st = embedded->create_topic(ch.topic, cfg.embedded_partitions); !st)
        spdlog::error("event=topic_create_failed error=\"{}\"", st.error_message());
    }
    (void)embedded->create_topic(cfg.dead_letter_topic, 1);
    if (cfg.alerting_enabled) {
      (void)embedded->create_topic(cfg.hits_topic, cfg.embedded_partitions);
      (void)embedded->create_topic(cfg.alerts_topic, cfg.embedded_partitions);
    }
    bootstrap = embedded->bootstrap();
    spdlog::info("event=embedded_kafka_started bootstrap={} brokers={} partitions={}",
                 bootstrap, cfg.embedded_brokers, cfg.embedded_partitions);
    spdlog::warn("event=embedded_kafka_is_for_demos effect=\"a few MB per partition (older "
                 "messages deleted, read or not); everything gone when the daemon stops\" "
                 "production=\"set kafka.brokers to a Kafka cluster\"");
    return ok_status();
  }

  // The embedded cluster's clients go first (every user of them has stopped by now:
  // ingest, mailbox, alerting, HTTP), so that none reconnects to a cluster that is gone.
  void stop_kafka() {
    cases.reset();
    consumer.reset();
    alerts_svc.reset();
    embedded.reset();
  }

  status start_http() {
    http = std::make_unique<http::http_server>();
    http->set_token(cfg.http_token);
    http::http_limits limits;
    limits.allowed_hosts = cfg.http_allowed_hosts;
    http->set_limits(limits);
    registry.add_collector([this] {
      const auto r = http->refused();
      return http::families(r.connections, r.event_streams);
    });
    std::vector<http::http_credential> people;
    for (const auto& p : cfg.http_people) people.push_back({p.name, p.unit, p.role, p.token_sha256});
    http->set_people(std::move(people));
    alert_stream = http->add_event_stream("/api/v1/alerts/stream", [this] { return open_alerts(); },
                                          http::http_server::access::viewer);
    risk = std::make_unique<risk_service>(cfg, *store, clk);
    registry.add_collector([this] { return risk->families(); });
    add_routes();
    add_risk_routes(*http, *risk, *store, clk, cfg.mailbox_utc_offset_minutes);
    briefings = std::make_unique<briefing_service>(
        cfg, *store, clk, briefing_sources{risk.get(), [this] { return current_sets(); }}, registry.prometheus_registry());
    add_briefing_routes(*http, *briefings);
    add_console_routes(*http, cfg.http_console_dir, !cfg.http_token.empty() || !cfg.http_people.empty());
    if (auto st = http->start(cfg.http_listen); !st) return st;
    spdlog::info("event=http_listening address={} port={}", cfg.http_listen, http->port());
    return ok_status();
  }

  // What a client of the event stream that connects without a Last-Event-ID gets first:
  // the alerts not closed.
  std::string open_alerts() const {
    json out = json::array();
    if (alerts_svc) {
      for (const char* state : {"open", "acknowledged", "handled"}) {
        alerting::alert_query q;
        q.state = state;
        q.limit = 10000;
        if (auto found = alerts_svc->alerts(q))
          for (const auto& a : *found) out.push_back(alert_json(a, cfg.mailbox_utc_offset_minutes));
      }
    }
    return common::dump(json{{"alerts", out}});
  }

  status start_notifier() {
    if (!cfg.alerting_enabled) return ok_status();
    al_probe = std::make_unique<alerting::probe>(registry);
    alerting::unit_directory units;
    for (const auto& u : cfg.units) {
      units[u.name] = {u.name, u.receiver};
      for (const auto& p : u.plan_names) units[p] = {u.name, u.receiver};
    }
    const std::string self = "http://" + cfg.http_listen.substr(0, cfg.http_listen.rfind(':')) + ":" +
                             std::to_string(http->port());
    alert_sink = std::make_unique<alerting::notifier>(
        alerting::notifier_options{cfg.alertmanager_url, cfg.alertmanager_resend_seconds, cfg.webhook_url, self,
                                   std::move(units)},
        *al_probe);
    return alert_sink->start();
  }

  status start_alerting() {
    if (!cfg.alerting_enabled) return ok_status();
    alerts_svc = std::make_unique<alerting::service>(cfg, bootstrap, *store, [this] { return sets->rules(); },
                                                     plan, *al_probe, *alert_sink, alert_stream, clk);
    if (auto st = alerts_svc->start(); !st) return st;
    precision->set_alerts(alerts_svc.get());
    return ok_status();
  }

  status start_mailbox() {
    const bool has_mailbox = std::any_of(cfg.channels.begin(), cfg.channels.end(), [](const config::channel& c) {
      return c.kind == config::channel_kind::mailbox || c.kind == config::channel_kind::mailbox_reply;
    });
    if (!has_mailbox) return ok_status();
    auto cal = mailbox::calendar::load_dir(cfg.calendar_dir, cfg.mailbox_utc_offset_minutes);
    if (!cal) return error{"calendar: " + cal.error_message()};
    mb_probe = std::make_unique<mailbox::probe>(registry);
    cases = std::make_unique<mailbox::service>(cfg, *store, std::move(cal.value()), plan, *mb_probe, clk);
    mailbox::case_alert_sink sink;
    if (alerts_svc) {
      sink.raise = [this](alerting::alert a) { alerts_svc->raise(std::move(a)); };
      sink.resolve = [this](const std::string& fp, const std::string& note) { return alerts_svc->resolve(fp, note); };
    }
    return cases->start(std::move(sink));
  }

  // The risk index, tendency and policies (issue 24): before ingest, which feeds it.
  status start_risk() {
    risk_alert_sink sink;
    if (alerts_svc) {
      sink.raise = [this](alerting::alert a) { alerts_svc->raise(std::move(a)); };
      sink.resolve = [this](const std::string& fp, const std::string& note) { return alerts_svc->resolve(fp, note); };
    }
    return risk->start(std::move(sink), cases ? &cases->cal() : nullptr);
  }

  status start_ingest() {
    consumer = std::make_unique<ingest::service>(cfg, bootstrap, *store, [this] { return current_sets(); },
                                                 *in_probe, clk);
    if (cases) consumer->add_companion(*cases);
    consumer->add_companion(*risk);
    if (embedded) consumer->set_cluster_id(embedded->cluster_id());
    if (alerts_svc) consumer->set_alert_sink([this](alerting::alert a) { alerts_svc->raise(std::move(a)); });
    return consumer->start();
  }

  void stop_ingest() {
    consumer->stop();
    const auto c = consumer->counters();
    spdlog::info("event=ingest_stopped consumed={} hits={} invalid={} batches={}", c.consumed, c.hits,
                 c.invalid, c.batches);
  }

  // Until SIGTERM or SIGINT; SIGHUP asks for a keyword-set reload.
  void wait_for_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    while (true) {
      timespec ts{1, 0};
      const int sig = sigtimedwait(&set, nullptr, &ts);
      if (sig == SIGHUP) {
        spdlog::info("event=reload_requested trigger=SIGHUP");
        (void)sets->request("SIGHUP");  // the outcome is logged by the reload
      } else if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("event=stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
      }
    }
  }

  int run() {
    teardown_stack teardown;
    for (auto& s : steps()) {
      if (auto st = s.start(); !st) {
        spdlog::critical("event=start_failed step={} error=\"{}\"", s.name, st.error_message());
        return 1;
      }
      if (s.stop) teardown.push(s.name, std::move(s.stop));
    }
    spdlog::info("event=started version={} kafka={} channels={} group={}", version, bootstrap,
                 cfg.channels.size(), cfg.kafka_group_id);
    wait_for_signals();
    teardown.run();
    spdlog::info("event=stopped");
    return 0;
  }
};

app::app(config::daemon_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}
app::~app() = default;

int app::run() { return impl_->run(); }

}  // namespace yuqing::daemon
