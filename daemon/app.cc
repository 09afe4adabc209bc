#include "daemon/app.h"

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/clock.h"
#include "config/plan.h"
#include "daemon/decoder.h"
#include "daemon/http_server.h"
#include "daemon/ingest.h"
#include "daemon/kafka.h"
#include "daemon/probe.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::daemon {

const char* const version = "0.1.0";

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

json hit_json(const storage::hit_record& h) {
  json spans = json::array();
  for (const auto& s : h.spans)
    spans.push_back({{"field", s.field}, {"begin", s.begin}, {"end", s.end}, {"text", s.text}});
  return {{"topic", h.topic},           {"time", format_rfc3339(h.time_ms)},
          {"message_key", h.message_key}, {"set", h.set_id},
          {"set_version", h.set_version}, {"rule", h.rule_id},
          {"severity", h.severity},       {"plan_item", h.plan_item},
          {"channel", h.channel},         {"author", h.author},
          {"title", h.title},             {"spans", spans}};
}

int64_t query_int(const http_request& r, const std::string& key, int64_t dflt) {
  const auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return dflt;
  int64_t ms;
  if (parse_rfc3339(it->second, ms)) return ms;
  return std::stoll(it->second);
}

}  // namespace

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

struct app::impl {
  explicit impl(config::daemon_config c) : cfg(std::move(c)) {}

  config::daemon_config cfg;
  system_clock clk;
  int64_t started_ms = clk.now_ms();
  config::plan plan;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<embedded_kafka> embedded;
  std::string bootstrap;
  metrics registry;
  std::unique_ptr<app_probe> probe;
  std::unique_ptr<ingest_probe> in_probe;
  std::unique_ptr<http_server> http;
  std::unique_ptr<ingest> consumer;

  mutable std::mutex sets_mu;
  std::shared_ptr<const matchers::matcher> sets = std::make_shared<matchers::matcher>(
      std::vector<std::shared_ptr<const matchers::compiled_set>>{});

  std::shared_ptr<const matchers::matcher> current_sets() const {
    std::lock_guard lock(sets_mu);
    return sets;
  }

  // Loads the keyword-set directory; files with errors keep their previous set.
  bool load_sets() {
    auto loaded = matchers::load_directory(cfg.keyword_sets_dir);
    const auto previous = current_sets();
    std::vector<std::shared_ptr<const matchers::compiled_set>> next;
    bool ok = true;
    for (const auto& r : loaded.results) {
      for (const auto& d : r.diagnostics) {
        if (d.warning) spdlog::warn("event=keyword_set_warning {}", d.to_text());
        else spdlog::error("event=keyword_set_rejected {}", d.to_text());
      }
      if (r.set) {
        const auto& def = r.set->definition();
        spdlog::info("event=keyword_set_loaded set={} version={} rules={} literals={} compile_ms={:.1f} file={}",
                     def.id, def.version, def.rules.size(), r.set->literal_count(),
                     r.compile_seconds * 1000, def.file);
        next.push_back(r.set);
        continue;
      }
      ok = false;
      const std::string file = r.diagnostics.empty() ? "" : r.diagnostics.front().file;
      for (const auto& old : previous->sets()) {
        if (old->definition().file == file) {
          spdlog::warn("event=keyword_set_kept set={} version={} file={}", old->definition().id,
                       old->definition().version, file);
          next.push_back(old);
        }
      }
    }
    {
      std::lock_guard lock(sets_mu);
      sets = std::make_shared<const matchers::matcher>(std::move(next));
    }
    if (probe) {
      probe->keyword_sets_loaded(current_sets()->sets().size());
      probe->reload(ok);
    }
    return ok;
  }

  json status_json() const {
    json sets_j = json::array();
    for (const auto& s : current_sets()->sets()) {
      const auto& d = s->definition();
      sets_j.push_back({{"id", d.id}, {"name", d.name}, {"topic", d.topic}, {"plan_item", d.plan_item},
                        {"version", d.version}, {"rules", d.rules.size()}, {"file", d.file}});
    }
    const auto c = consumer ? consumer->counters() : ingest_counters{};
    return {{"version", version},
            {"uptime_seconds", (clk.now_ms() - started_ms) / 1000},
            {"kafka", {{"bootstrap", bootstrap}, {"embedded", cfg.embedded_kafka()},
                       {"group_id", cfg.kafka_group_id}}},
            {"keyword_sets", sets_j},
            {"counters", {{"consumed", c.consumed}, {"invalid", c.invalid},
                          {"dead_lettered", c.dead_lettered}, {"hits", c.hits},
                          {"batches", c.batches}}},
            {"paused", c.paused},
            {"ready", consumer && consumer->ready()}};
  }

  void add_routes() {
    http->route("GET", "/healthz", [](const http_request&) {
      return http_response{200, "application/json", R"({"status":"ok"})"};
    });
    http->route("GET", "/readyz", [this](const http_request&) {
      const bool ready = consumer && consumer->ready();
      return http_response{ready ? 200 : 503, "application/json",
                           json{{"ready", ready}}.dump()};
    });
    http->route("GET", "/metrics", [this](const http_request&) {
      return http_response{200, "text/plain; version=0.0.4; charset=utf-8", registry.expose()};
    });
    http->route("GET", "/api/v1/status", [this](const http_request&) {
      return http_response{200, "application/json", status_json().dump()};
    });
    http->route("GET", "/api/v1/hits", [this](const http_request& r) {
      storage::hit_query q;
      try {
        q.topic = r.query.count("topic") ? r.query.at("topic") : "";
        q.set = r.query.count("set") ? r.query.at("set") : "";
        q.message = r.query.count("message") ? r.query.at("message") : "";
        q.since_ms = query_int(r, "since", 0);
        q.until_ms = query_int(r, "until", q.until_ms);
        q.limit = static_cast<size_t>(std::clamp<int64_t>(query_int(r, "limit", 100), 1, 10000));
      } catch (const std::exception&) {
        return json_error(400, "since/until: RFC 3339 time or milliseconds; limit: a number");
      }
      auto hits = store->hits(q);
      if (!hits) return json_error(500, hits.error_message());
      json out = json::array();
      for (const auto& h : *hits) out.push_back(hit_json(h));
      return http_response{200, "application/json", json{{"hits", out}}.dump()};
    });
    http->route("GET", "/api/v1/messages/", [this](const http_request& r) {
      const auto key = r.path.substr(std::string("/api/v1/messages/").size());
      auto m = store->message(key);
      if (!m) return json_error(500, m.error_message());
      if (!m->has_value()) return json_error(404, "no message " + key);
      return http_response{200, "application/json", (*m)->to_json()};
    });
  }

  int run() {
    teardown_stack teardown;
    auto plan_loaded = config::load_plan(cfg.plan_path);
    if (!plan_loaded) {
      spdlog::critical("event=start_failed step=plan error=\"{}\"", plan_loaded.error_message());
      return 1;
    }
    plan = std::move(plan_loaded.value());
    spdlog::info("event=plan_loaded items={} file={}", plan.items.size(), cfg.plan_path.string());

    probe = std::make_unique<app_probe>(registry, version, started_ms);
    in_probe = std::make_unique<ingest_probe>(registry, cfg.channels);
    load_sets();

    auto opened = storage::store::open({cfg.storage_path, cfg.storage_sync, false,
                                                int64_t{cfg.message_retention_hours} * 3600 * 1000});
    if (!opened) {
      spdlog::critical("event=start_failed step=storage error=\"{}\"", opened.error_message());
      return 1;
    }
    store = std::move(opened.value());
    teardown.push("storage", [this] {
      if (auto st = store->flush(); !st) spdlog::error("event=flush_failed error=\"{}\"", st.error_message());
      store.reset();
      spdlog::info("event=storage_closed");
    });
    spdlog::info("event=storage_opened path={}", cfg.storage_path.string());

    if (cfg.embedded_kafka()) {
      auto k = embedded_kafka::start(cfg.embedded_brokers);
      if (!k) {
        spdlog::critical("event=start_failed step=embedded_kafka error=\"{}\"", k.error_message());
        return 1;
      }
      embedded = std::move(k.value());
      teardown.push("embedded_kafka", [this] { embedded.reset(); });
      for (const auto& ch : cfg.channels) {
        if (auto st = embedded->create_topic(ch.topic, cfg.embedded_partitions); !st)
          spdlog::error("event=topic_create_failed error=\"{}\"", st.error_message());
      }
      (void)embedded->create_topic(cfg.dead_letter_topic, 1);
      bootstrap = embedded->bootstrap();
      spdlog::info("event=embedded_kafka_started bootstrap={} brokers={} partitions={}",
                   bootstrap, cfg.embedded_brokers, cfg.embedded_partitions);
    } else {
      bootstrap = cfg.kafka_brokers;
    }

    http = std::make_unique<http_server>();
    add_routes();
    if (auto st = http->start(cfg.http_listen); !st) {
      spdlog::critical("event=start_failed step=http error=\"{}\"", st.error_message());
      return 1;
    }
    teardown.push("http", [this] { http->stop(); });
    spdlog::info("event=http_listening address={} port={}", cfg.http_listen, http->port());

    consumer = std::make_unique<ingest>(cfg, bootstrap, *store, [this] { return current_sets(); },
                                        *in_probe, clk);
    if (auto st = consumer->start(); !st) {
      spdlog::critical("event=start_failed step=ingest error=\"{}\"", st.error_message());
      return 1;
    }
    teardown.push("ingest", [this] {
      consumer->stop();
      const auto c = consumer->counters();
      spdlog::info("event=ingest_stopped consumed={} hits={} invalid={} batches={}", c.consumed,
                   c.hits, c.invalid, c.batches);
    });
    spdlog::info("event=started version={} kafka={} channels={} group={}", version, bootstrap,
                 cfg.channels.size(), cfg.kafka_group_id);

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
        const bool ok = load_sets();
        spdlog::info("event=reload_finished result={} sets={}", ok ? "ok" : "failed",
                     current_sets()->sets().size());
      } else if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("event=stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
      }
    }
    teardown.run();
    spdlog::info("event=stopped");
    return 0;
  }
};

app::app(config::daemon_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}
app::~app() = default;

int app::run() { return impl_->run(); }

}  // namespace yuqing::daemon
