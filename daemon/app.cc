#include "daemon/app.h"

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/clock.h"
#include "config/plan.h"
#include "alerting/alert.h"
#include "daemon/alerting_service.h"
#include "daemon/mailbox.h"
#include "daemon/risk_service.h"
#include "daemon/briefing_service.h"
#include "daemon/backtest.h"
#include "daemon/console_routes.h"
#include "daemon/decoder.h"
#include "daemon/http_server.h"
#include "daemon/ingest.h"
#include "daemon/kafka.h"
#include "daemon/keyword_sets.h"
#include "daemon/notifier.h"
#include "daemon/probe.h"
#include "daemon/hit_excerpt.h"
#include "daemon/routes_precision.h"
#include "daemon/routes_sets.h"
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

std::string join(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

json hit_json(const storage::hit_record& h) {
  json spans = json::array();
  for (const auto& s : h.spans)
    spans.push_back({{"field", s.field}, {"begin", s.begin}, {"end", s.end}, {"text", s.text}});
  return {{"topic", h.topic},           {"time", format_rfc3339(h.time_ms)},
          {"message_key", h.message_key}, {"set", h.set_id},
          {"set_version", h.set_version}, {"rule", h.rule_id},
          {"severity", h.severity},       {"plan_item", h.plan_item},
          {"channel", h.channel},         {"author", h.author},
          {"title", h.title},             {"spans", spans},
          {"boundary", h.boundary}};
}

// A time (RFC 3339, ms or an age like 7d) or a count; throws std::invalid_argument.
// A count parameter (limit): digits, 1..max; absent: dflt. Throws invalid_argument(key).
size_t query_count(const http_request& r, const std::string& key, size_t dflt, size_t max) {
  const auto it = r.query.find(key);
  if (it == r.query.end()) return dflt;
  const std::string& v = it->second;
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) throw std::invalid_argument(key);
  const auto n = std::stoul(v);
  if (n < 1 || n > max) throw std::invalid_argument(key);
  return n;
}

int64_t query_int(const http_request& r, const std::string& key, int64_t dflt) {
  const auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return dflt;
  int64_t ms;
  if (parse_time_or_age(it->second, system_clock().now_ms(), ms)) return ms;
  throw std::invalid_argument(key);
}

json hit_json(const matchers::hit& h, const std::vector<std::string>& names,
              const std::vector<std::string_view>& fields) {
  json spans = json::array();
  for (const auto& s : h.spans)
    spans.push_back({{"field", names[s.field]}, {"begin", s.begin}, {"end", s.end},
                     {"text", fields[s.field].substr(s.begin, s.end - s.begin)}});
  const uint32_t f = h.spans.empty() ? 0 : h.spans.front().field;
  return {{"set", h.set_id},       {"set_version", h.set_version}, {"rule", h.rule_id},
          {"topic", h.topic},      {"severity", matchers::to_string(h.level)},
          {"spans", spans},           {"boundary", segment::to_string(h.boundary)},
          {"highlighted", matchers::highlight(fields[f], h.spans, f, "【", "】")}};
}

// ms as RFC 3339 at this UTC offset: 2026-12-02T09:40:00.000+08:00.
std::string local_rfc3339(int64_t ms, int offset_minutes) {
  std::string s = format_rfc3339(ms + int64_t{offset_minutes} * 60000);
  char zone[8];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', std::abs(offset_minutes) / 60,
                std::abs(offset_minutes) % 60);
  s.pop_back();  // the Z
  return s + zone;
}

// An alert as the API gives it: beside each time in epoch ms (fired_ms), the same time in
// RFC 3339 at the configured offset (fired); a time not reached yet (0) has none.
json alert_json(const alerting::alert& a, int offset_minutes) {
  json j = json::parse(a.to_json());
  auto add = [&](json& o, const std::string& key) {
    if (o.contains(key + "_ms") && o[key + "_ms"].get<int64_t>() > 0)
      o[key] = local_rfc3339(o[key + "_ms"].get<int64_t>(), offset_minutes);
  };
  for (const char* key : {"fired", "first_hit", "last_hit", "last_notified", "cleared", "acknowledged",
                          "handled", "closed", "release_by", "respond_by"})
    add(j, key);
  for (auto& e : j["examples"]) add(e, "time");
  for (auto& e : j["audit"]) add(e, "time");
  return j;
}

// The filters of GET /api/v1/alerts; "" or what is wrong, naming the parameter.
std::string read_alert_query(const http_request& r, alert_query& q) {
  static const std::set<std::string> known = {"state", "condition", "level", "topic", "unit", "kind", "limit"};
  for (const auto& [key, value] : r.query)
    if (!known.count(key)) return key + ": unknown filter (state, condition, level, topic, unit, kind, limit)";
  auto get = [&](const char* key) { return r.query.count(key) ? r.query.at(key) : std::string(); };
  q.state = get("state");
  q.condition = get("condition");
  q.level = get("level");
  q.topic = get("topic");
  q.unit = get("unit");
  q.kind = get("kind");
  static const std::set<std::string> states = {"open", "acknowledged", "handled", "closed"};
  if (!q.state.empty() && !states.count(q.state)) return "state: open, acknowledged, handled or closed";
  if (!q.condition.empty() && !alerting::parse_alert_condition(q.condition)) return "condition: firing or cleared";
  if (!q.level.empty() && !matchers::parse_alert_level(q.level)) return "level: blue, yellow, orange or red";
  static const std::set<std::string> kinds = {"immediate", "threshold", "spike", "spread", "due_soon",
                                              "overdue", "concentrated_issue", "same_text", "messages_lost", "rule_tuning",
                                              "risk_level"};
  if (!q.kind.empty() && !kinds.count(q.kind))
    return "kind: immediate, threshold, spike, spread, due_soon, overdue, concentrated_issue, same_text, "
           "messages_lost, rule_tuning or risk_level";
  try {
    q.limit = query_count(r, "limit", 100, 10000);
  } catch (const std::exception&) {
    return "limit: a number from 1 to 10000";
  }
  return "";
}

json outcome_json(const reload_outcome& o) {
  return {{"ok", o.ok},           {"changed", o.changed},  {"trigger", o.trigger},
          {"finished", format_rfc3339(o.finished_ms)},     {"seconds", o.seconds},
          {"sets", o.sets},       {"errors", o.errors},    {"loaded", o.loaded}};
}

// Parses a set posted in a request and has it compiled on the keyword-set thread (with the
// time limit), waiting at most a second: the diagnostics as the error, or null while it
// still compiles (answer still_compiling(); posted again, the same compile answers).
result<std::shared_ptr<const matchers::compiled_set>> posted_set(keyword_sets& sets,
                                                                 const std::string& yaml) {
  auto parsed = matchers::parse_keyword_set(yaml, "(posted)");
  if (!parsed.ok()) return error{parsed.to_text()};
  constexpr auto wait = std::chrono::seconds(1);  // /healthz and the rest wait no longer
  auto f = sets.compile(std::move(*parsed.set));
  if (f.wait_for(wait) != std::future_status::ready)
    return std::shared_ptr<const matchers::compiled_set>();
  const auto& c = f.get();
  if (!c.ok()) return error{c.to_text()};
  return c.set;
}

http_response still_compiling() {
  return {202, "application/json",
          json{{"state", "compiling"}, {"retry", "post the same set again for its result"}}.dump()};
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
  std::shared_ptr<const config::plan> plan;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<embedded_kafka> embedded;
  std::string bootstrap;
  metrics registry;
  std::unique_ptr<app_probe> probe;
  std::unique_ptr<ingest_probe> in_probe;
  std::unique_ptr<http_server> http;
  std::unique_ptr<ingest> consumer;
  std::unique_ptr<keyword_sets> sets;
  std::unique_ptr<backtest_jobs> backtests;
  std::unique_ptr<alerting_probe> al_probe;
  std::unique_ptr<notifier> alert_sink;
  std::shared_ptr<event_stream> alert_stream;
  std::unique_ptr<alerting_service> alerts_svc;
  std::unique_ptr<mailbox_probe> mb_probe;
  std::unique_ptr<mailbox> cases;
  std::unique_ptr<precision_api> precision;  // verdicts, precision, suggestions (issue 23)
  std::unique_ptr<risk_service> risk;
  std::unique_ptr<briefing_service> briefings;  // the 舆情简报 (issue 24 item 4)

  std::shared_ptr<const matchers::matcher> current_sets() const { return sets->current(); }

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
                          {"batches", c.batches}, {"lost", c.lost}}},
            {"paused", c.paused},
            {"utc_offset_minutes", cfg.mailbox_utc_offset_minutes},
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
      static const std::set<std::string> known = {"topic", "set", "rule", "channel", "region", "message",
                                                  "since", "until", "limit", "excerpt"};
      for (const auto& [key, value] : r.query)
        if (!known.count(key)) return json_error(400, key + ": unknown parameter (" + join(known) + ")");
      const bool excerpts = r.query.count("excerpt") && r.query.at("excerpt") == "1";
      if (r.query.count("excerpt") && !excerpts && r.query.at("excerpt") != "0") return json_error(400, "excerpt: 0 or 1");
      try {
        q.topic = r.query.count("topic") ? r.query.at("topic") : "";
        q.set = r.query.count("set") ? r.query.at("set") : "";
        q.rule = r.query.count("rule") ? r.query.at("rule") : "";
        q.channel = r.query.count("channel") ? r.query.at("channel") : "";
        q.region = r.query.count("region") ? r.query.at("region") : "";
        q.message = r.query.count("message") ? r.query.at("message") : "";
        q.since_ms = query_int(r, "since", 0);
        q.until_ms = query_int(r, "until", q.until_ms);
        q.limit = query_count(r, "limit", 100, 10000);
      } catch (const std::exception& e) {
        return json_error(400, std::string(e.what()) == "limit" ? "limit: a number from 1 to 10000"
                                                               : std::string(e.what()) + ": RFC 3339 time, age (30d) or milliseconds");
      }
      auto hits = store->hits(q);
      if (!hits) return json_error(500, hits.error_message());
      json out = json::array();
      for (const auto& h : *hits) {
        out.push_back(precision ? precision->enrich_hit(h, hit_json(h)) : hit_json(h));
        out.back()["local_time"] = rfc3339_at_offset(h.time_ms, cfg.mailbox_utc_offset_minutes);
        if (excerpts) out.back()["context"] = hit_excerpt_json(*store, h);
      }
      return http_response{200, "application/json",
                           json{{"hits", out}, {"limit_reached", hits->size() >= q.limit}}.dump(
                               -1, ' ', false, json::error_handler_t::replace)};
    }, http_server::access::viewer);
    add_tuning_routes();
    if (precision) precision->add_routes(*http);  // before the alerts/ prefix routes
    add_set_file_routes(*http, {sets.get(), store.get(), &clk, cfg.keyword_sets_dir, cfg.mailbox_utc_offset_minutes});
    add_alert_routes();
    add_mailbox_routes();
    http->route("GET", "/api/v1/messages/", [this](const http_request& r) {
      const auto key = r.path.substr(std::string("/api/v1/messages/").size());
      auto m = store->message(key);
      if (!m) return json_error(500, m.error_message());
      if (!m->has_value()) return json_error(404, "no message " + key);
      return http_response{200, "application/json", (*m)->to_json()};
    }, http_server::access::viewer);
  }

  json keyword_sets_json() const {
    auto history = store->set_versions("", 20);
    json out = json::array();
    for (const auto& l : sets->sets()) {
      const auto& d = l.set->definition();
      json versions = json::array();
      if (history) {
        for (const auto& v : *history) {
          if (v.set_id != d.id) continue;
          versions.push_back({{"version", v.version}, {"loaded", format_rfc3339(v.loaded_ms)},
                              {"trigger", v.trigger}, {"rules", v.rules},
                              {"compile_ms", v.compile_ms}, {"from_cache", v.from_cache}});
        }
      }
      out.push_back({{"id", d.id},
                     {"name", d.name},
                     {"topic", d.topic},
                     {"plan_item", d.plan_item},
                     {"file", d.file},
                     {"version", d.version},
                     {"rules", d.rules.size()},
                     {"literals", l.set->literal_count()},
                     {"database_bytes", l.set->database_bytes()},
                     {"loaded", format_rfc3339(l.loaded_ms)},
                     {"trigger", l.trigger},
                     {"compile_ms", l.compile_ms},
                     {"from_cache", l.from_cache},
                     {"versions", versions}});
    }
    json j{{"sets", out}};
    if (auto last = sets->last_outcome()) j["last_reload"] = outcome_json(*last);
    if (!history) j["versions_error"] = history.error_message();
    return j;
  }

  // The noisiest rules since start: hits, share of all hits, hits per 1000 messages.
  json rules_json(size_t top) const {
    auto counts = in_probe->rule_counts();
    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
      return a.hits != b.hits ? a.hits > b.hits : std::tie(a.set, a.rule) < std::tie(b.set, b.rule);
    });
    uint64_t total = 0;
    for (const auto& c : counts) total += c.hits;
    const uint64_t consumed = consumer ? consumer->counters().consumed : 0;
    json out = json::array();
    for (size_t i = 0; i < counts.size(); ++i) {
      const auto& c = counts[i];
      out.push_back({{"set", c.set},
                     {"rule", c.rule},
                     {"topic", c.topic},
                     {"hits", c.hits},
                     {"share", total ? static_cast<double>(c.hits) / static_cast<double>(total) : 0.0},
                     {"per_1000_messages",
                      consumed ? 1000.0 * static_cast<double>(c.hits) / static_cast<double>(consumed) : 0.0},
                     {"example", {{"message_key", c.example_key}, {"text", c.example_text},
                                  {"time", format_rfc3339(c.example_time_ms)}}}});
    }
    if (precision) precision->rank_rules(out);  // by false hits and precision when judged
    if (out.size() > top) out.erase(out.begin() + static_cast<std::ptrdiff_t>(top), out.end());
    return {{"since", format_rfc3339(started_ms)}, {"messages", consumed}, {"hits", total},
            {"rules", out}};
  }

  void add_tuning_routes() {
    using access = http_server::access;
    http->route("GET", "/api/v1/keyword-sets", [this](const http_request&) {
      return http_response{200, "application/json", keyword_sets_json().dump()};
    });
    http->route("POST", "/api/v1/keyword-sets/reload", [this](const http_request& r) {
      spdlog::info("event=reload_requested trigger=http remote={}", r.remote);
      auto f = sets->request("http " + r.remote);
      if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        return http_response{202, "application/json",
                             json{{"state", "running"}, {"see", "/api/v1/keyword-sets"}}.dump()};
      const auto o = f.get();
      return http_response{o.ok ? 200 : 422, "application/json", outcome_json(o).dump()};
    }, access::analyst);
    http->route("GET", "/api/v1/rules", [this](const http_request& r) {
      int64_t top = 20;
      try {
        top = static_cast<int64_t>(query_count(r, "top", 20, 10000));
      } catch (const std::exception&) {
        return json_error(400, "top: a number from 1 to 10000");
      }
      return http_response{200, "application/json", rules_json(static_cast<size_t>(top)).dump()};
    });
    // Dry run: {"text": "..."} or {"fields": {"title": "...", ...}}, optionally "set" (YAML
    // of a candidate set; default: the sets in force).
    http->route("POST", "/api/v1/test", [this](const http_request& r) {
      json body = json::parse(r.body, nullptr, false);
      if (!body.is_object()) return json_error(400, "expected a JSON object");
      std::vector<std::string> names, values;
      if (body.contains("text") && body["text"].is_string()) {
        names.push_back("text");
        values.push_back(body["text"]);
      } else if (body.contains("fields") && body["fields"].is_object()) {
        for (const auto& [k, v] : body["fields"].items()) {
          if (!v.is_string()) return json_error(400, "fields." + k + ": expected a string");
          names.push_back(k);
          values.push_back(v);
        }
      } else {
        return json_error(400, "give \"text\" or \"fields\"");
      }
      std::vector<std::string_view> fields(values.begin(), values.end());
      std::vector<matchers::hit> found;
      std::shared_ptr<const matchers::compiled_set> candidate;
      std::shared_ptr<const matchers::matcher> running;
      if (body.contains("set")) {
        if (!body["set"].is_string()) return json_error(400, "set: the YAML text of a keyword set");
        auto c = posted_set(*sets, body["set"]);
        if (!c) return json_error(400, c.error_message());
        if (!*c) return still_compiling();
        candidate = *c;
        candidate->match(fields, found);
      } else {
        running = current_sets();
        running->match(fields, found);
      }
      json hits = json::array();
      for (const auto& h : found) hits.push_back(hit_json(h, names, fields));
      return http_response{200, "application/json",
                           json{{"against", candidate ? "posted" : "running"}, {"hits", hits}}.dump()};
    }, access::analyst);
    // {"set": "<YAML>", "since": "7d", "examples": 3}: 202 and the job's id.
    http->route("POST", "/api/v1/backtest", [this](const http_request& r) {
      json body = json::parse(r.body, nullptr, false);
      if (!body.is_object() || !body.contains("set") || !body["set"].is_string())
        return json_error(400, "expected {\"set\": \"<YAML of the candidate set>\", \"since\": \"7d\"}");
      backtest_request req;
      const std::string since = body.value("since", "7d");
      if (!parse_time_or_age(since, clk.now_ms(), req.since_ms))
        return json_error(400, "since: RFC 3339, milliseconds or an age like 7d");
      req.examples = std::clamp<size_t>(body.value("examples", size_t{3}), 0, 100);
      req.cpu_share = cfg.backtest_max_cpu_percent / 100.0;
      auto c = posted_set(*sets, body["set"]);
      if (!c) {
        spdlog::warn("event=backtest_rejected remote={} reason=invalid_set", r.remote);
        return json_error(400, c.error_message());
      }
      if (!*c) return still_compiling();
      req.candidate = *c;
      for (const auto& s : current_sets()->sets())
        if (s->definition().id == req.candidate->definition().id) req.running = s;
      auto id = backtests->start(std::move(req), r.remote);
      if (!id) return json_error(409, id.error_message());
      return http_response{202, "application/json",
                           json{{"id", *id}, {"url", "/api/v1/backtest/" + *id}}.dump()};
    }, access::analyst);
    http->route("GET", "/api/v1/backtest/", [this](const http_request& r) {
      const auto id = r.path.substr(std::string("/api/v1/backtest/").size());
      auto j = backtests->get(id);
      if (!j) return json_error(404, "no backtest " + id);
      return http_response{200, "application/json", *j};
    });
  }

  void add_alert_routes() {
    using access = http_server::access;
    auto unavailable = [] { return json_error(503, "alerting is disabled (alerting.enabled: false)"); };
    http->route("GET", "/api/v1/alerts", [this, unavailable](const http_request& r) {
      if (!alerts_svc) return unavailable();
      alert_query q;
      if (auto bad = read_alert_query(r, q); !bad.empty()) return json_error(400, bad);
      auto found = alerts_svc->alerts(q);
      if (!found) return json_error(500, found.error_message());
      json out = json::array();
      for (const auto& a : *found) out.push_back(alert_json(a, cfg.mailbox_utc_offset_minutes));
      return http_response{200, "application/json", json{{"alerts", out}}.dump()};
    }, http_server::access::viewer);
    http->route("GET", "/api/v1/alerts/", [this, unavailable](const http_request& r) {
      if (!alerts_svc) return unavailable();
      const auto id = r.path.substr(std::string("/api/v1/alerts/").size());
      auto a = store->alert(id);
      if (!a) return json_error(500, a.error_message());
      if (!a->has_value()) return json_error(404, "no alert " + id);
      const auto parsed = alerting::alert::from_json(**a);
      if (!parsed) return json_error(500, "alert " + id + " is unreadable in the store");
      return http_response{200, "application/json", alert_json(*parsed, cfg.mailbox_utc_offset_minutes).dump()};
    }, http_server::access::viewer);
    // POST /api/v1/alerts/{id}/ack and /handle with {"who": "...", "note": "..."}.
    http->route("POST", "/api/v1/alerts/", [this, unavailable](const http_request& r) {
      if (!alerts_svc) return unavailable();
      const auto rest = r.path.substr(std::string("/api/v1/alerts/").size());
      const auto slash = rest.find('/');
      const std::string id = rest.substr(0, slash);
      const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
      if (action != "ack" && action != "handle") return json_error(404, "POST /api/v1/alerts/{id}/ack or /handle");
      json body = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
      if (!body.is_object()) return json_error(400, "expected {\"who\": \"...\", \"note\": \"...\"}");
      for (const char* field : {"who", "note"})
        if (body.contains(field) && !body[field].is_string()) return json_error(400, std::string(field) + ": a string");
      constexpr size_t max_note_bytes = 4096;
      if (body.contains("note") && body["note"].get<std::string>().size() > max_note_bytes)
        return json_error(400, "note: at most 4096 bytes");
      // A person's token names them; with the shared token the body says who.
      const std::string who = !r.person.empty() ? r.person + "（" + r.unit + "）" : body.value("who", "");
      if (who.empty()) return json_error(400, "who: the person acknowledging or handling");
      const std::string note = body.value("note", "");
      auto a = action == "ack" ? alerts_svc->acknowledge(id, who, note) : alerts_svc->handle(id, who, note);
      if (!a) {
        const bool unknown = a.error_message().rfind("no alert", 0) == 0;
        return json_error(unknown ? 404 : 409, a.error_message() +
                                                   (unknown ? " (active alerts live on the instance that owns their topic)" : ""));
      }
      return http_response{200, "application/json", alert_json(*a, cfg.mailbox_utc_offset_minutes).dump()};
    }, access::officer);
  }

  void add_mailbox_routes() {
    http->route("GET", "/api/v1/cases", [this](const http_request& r) {
      case_query q;
      q.state = r.query.count("state") ? r.query.at("state") : "";
      q.unit = r.query.count("unit") ? r.query.at("unit") : "";
      static const std::set<std::string> states = {"", "open", "overdue", "closed", "reply_only"};
      if (!states.count(q.state)) return json_error(400, "state: open, overdue, closed or reply_only");
      try {
        q.limit = query_count(r, "limit", 1000, 100000);
      } catch (const std::exception&) {
        return json_error(400, "limit: a number from 1 to 100000");
      }
      const int64_t now = clk.now_ms();
      auto found = list_cases(*store, q, now);
      if (!found) return json_error(500, found.error_message());
      json out = json::array();
      for (const auto& c : *found) out.push_back(json::parse(c.to_json(now)));
      return http_response{200, "application/json", json{{"cases", out}}.dump(-1, ' ', false, json::error_handler_t::replace)};
    }, http_server::access::viewer);
    http->route("GET", "/api/v1/report", [this](const http_request& r) {
      int64_t from = 0, to = 0;
      const int64_t now = clk.now_ms();
      try {
        from = query_int(r, "from", now - int64_t{30} * 86400000);
        to = query_int(r, "to", now);
      } catch (const std::exception&) {
        return json_error(400, "from/to: RFC 3339 time, milliseconds or an age (30d)");
      }
      const std::string format = r.query.count("format") ? r.query.at("format") : "json";
      if (format != "json" && format != "md" && format != "csv") return json_error(400, "format: json, md or csv");
      auto report = build_report(*store, from, to, now);
      if (!report) return json_error(500, report.error_message());
      if (format == "md") return http_response{200, "text/markdown; charset=utf-8", report->to_markdown()};
      if (format == "csv") return http_response{200, "text/csv; charset=utf-8", report->to_csv()};
      return http_response{200, "application/json", report->to_json()};
    }, http_server::access::viewer);
  }

  // The risk index, tendency and policies (issue 24): before ingest, which feeds it.
  int start_risk() {
    risk_alert_sink sink;
    if (alerts_svc) {
      sink.raise = [this](alerting::alert a) { alerts_svc->raise(std::move(a)); };
      sink.resolve = [this](const std::string& fp, const std::string& note) { return alerts_svc->resolve(fp, note); };
    }
    if (auto st = risk->start(std::move(sink), cases ? &cases->cal() : nullptr); !st) {
      spdlog::critical("event=start_failed step=risk error=\"{}\"", st.error_message());
      return 1;
    }
    return 0;
  }

  int run() {
    teardown_stack teardown;
    auto plan_loaded = config::load_plan(cfg.plan_path);
    if (!plan_loaded) {
      spdlog::critical("event=start_failed step=plan error=\"{}\"", plan_loaded.error_message());
      return 1;
    }
    plan = std::make_shared<const config::plan>(std::move(plan_loaded.value()));
    spdlog::info("event=plan_loaded items={} file={}", plan->items.size(), cfg.plan_path.string());

    probe = std::make_unique<app_probe>(registry, version, started_ms);
    in_probe = std::make_unique<ingest_probe>(registry, cfg.channels);

    auto opened = storage::store::open({cfg.storage_path, cfg.storage_sync, false,
                                                int64_t{cfg.message_retention_hours} * 3600 * 1000});
    if (!opened) {
      spdlog::critical("event=start_failed step=storage error=\"{}\"", opened.error_message());
      return 1;
    }
    store = std::move(opened.value());
    // Scraped on the HTTP thread, which stops (teardown below) before the store closes.
    registry.add_collector([this] { return storage_families(store->statistics()); });
    teardown.push("storage", [this] {
      if (auto st = store->flush(); !st) spdlog::error("event=flush_failed error=\"{}\"", st.error_message());
      store.reset();
      spdlog::info("event=storage_closed");
    });
    spdlog::info("event=storage_opened path={}", cfg.storage_path.string());

    sets = std::make_unique<keyword_sets>(
        keyword_sets_options{cfg.keyword_sets_dir, cfg.hs_cache_dir(), cfg.keyword_sets_settle_ms,
                             cfg.keyword_sets_watch, cfg.keyword_sets_compile_time_limit_ms},
        store.get(), *probe, clk);
    sets->load("startup");
    if (auto st = sets->start(); !st) {
      spdlog::critical("event=start_failed step=keyword_sets error=\"{}\"", st.error_message());
      return 1;
    }
    teardown.push("keyword_sets", [this] { sets->stop(); });
    backtests = std::make_unique<backtest_jobs>(*store);
    precision = std::make_unique<precision_api>(*store, *sets, plan, registry);
    teardown.push("backtests", [this] { backtests.reset(); });

    if (cfg.embedded_kafka()) {
      auto k = embedded_kafka::start(cfg.embedded_brokers);
      if (!k) {
        spdlog::critical("event=start_failed step=embedded_kafka error=\"{}\"", k.error_message());
        return 1;
      }
      embedded = std::move(k.value());
      teardown.push("embedded_kafka", [this] {
        // Its clients go first (every user of them has stopped by now: ingest, mailbox,
        // alerting, HTTP), so that none reconnects to a cluster that is gone and logs it.
        cases.reset();
        consumer.reset();
        alerts_svc.reset();
        embedded.reset();
      });
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
    } else {
      bootstrap = cfg.kafka_brokers;
    }

    http = std::make_unique<http_server>();
    http->set_token(cfg.http_token);
    http_limits limits;
    limits.allowed_hosts = cfg.http_allowed_hosts;
    http->set_limits(limits);
    registry.add_collector([this] {
      const auto r = http->refused();
      return http_families(r.connections, r.event_streams);
    });
    std::vector<http_credential> people;
    for (const auto& p : cfg.http_people) people.push_back({p.name, p.unit, p.role, p.token_sha256});
    http->set_people(std::move(people));
    // A client that connects without a Last-Event-ID first gets the alerts not closed.
    alert_stream = http->add_event_stream("/api/v1/alerts/stream", [this] {
      json out = json::array();
      if (alerts_svc) {
        for (const char* state : {"open", "acknowledged", "handled"}) {
          alert_query q;
          q.state = state;
          q.limit = 10000;
          if (auto found = alerts_svc->alerts(q))
            for (const auto& a : *found) out.push_back(alert_json(a, cfg.mailbox_utc_offset_minutes));
        }
      }
      return json{{"alerts", out}}.dump(-1, ' ', false, json::error_handler_t::replace);
    }, http_server::access::viewer);
    risk = std::make_unique<risk_service>(cfg, *store, clk);
    registry.add_collector([this] { return risk->families(); });
    add_routes();
    add_risk_routes(*http, *risk, *store, clk, cfg.mailbox_utc_offset_minutes);
    briefings = std::make_unique<briefing_service>(
        cfg, *store, clk, briefing_sources{risk.get(), [this] { return current_sets(); }}, registry.registry());
    add_briefing_routes(*http, *briefings);
    add_console_routes(*http, cfg.http_console_dir, !cfg.http_token.empty() || !cfg.http_people.empty());
    if (auto st = http->start(cfg.http_listen); !st) {
      spdlog::critical("event=start_failed step=http error=\"{}\"", st.error_message());
      return 1;
    }
    teardown.push("http", [this] { http->stop(); });
    spdlog::info("event=http_listening address={} port={}", cfg.http_listen, http->port());

    if (cfg.alerting_enabled) {
      al_probe = std::make_unique<alerting_probe>(registry);
      unit_directory units;
      for (const auto& u : cfg.units) {
        units[u.name] = {u.name, u.receiver};
        for (const auto& p : u.plan_names) units[p] = {u.name, u.receiver};
      }
      alert_sink = std::make_unique<notifier>(
          notifier_options{cfg.alertmanager_url, cfg.alertmanager_resend_seconds, cfg.webhook_url,
                           "http://" + cfg.http_listen.substr(0, cfg.http_listen.rfind(':')) + ":" +
                               std::to_string(http->port()),
                           std::move(units)},
          *al_probe);
      if (auto st = alert_sink->start(); !st) {
        spdlog::critical("event=start_failed step=notifier error=\"{}\"", st.error_message());
        return 1;
      }
      teardown.push("notifier", [this] { alert_sink->stop(); });
      alerts_svc = std::make_unique<alerting_service>(cfg, bootstrap, *store, *sets, plan, *al_probe,
                                                      *alert_sink, alert_stream, clk);
      if (auto st = alerts_svc->start(); !st) {
        spdlog::critical("event=start_failed step=alerting error=\"{}\"", st.error_message());
        return 1;
      }
      teardown.push("alerting", [this] { alerts_svc->stop(); });
      precision->set_alerts(alerts_svc.get());
    }

    const bool has_mailbox = std::any_of(cfg.channels.begin(), cfg.channels.end(), [](const config::channel& c) {
      return c.kind == config::channel_kind::mailbox || c.kind == config::channel_kind::mailbox_reply;
    });
    if (has_mailbox) {
      auto cal = calendar::load_dir(cfg.calendar_dir, cfg.mailbox_utc_offset_minutes);
      if (!cal) {
        spdlog::critical("event=start_failed step=calendar error=\"{}\"", cal.error_message());
        return 1;
      }
      mb_probe = std::make_unique<mailbox_probe>(registry);
      cases = std::make_unique<mailbox>(cfg, *store, std::move(cal.value()), plan, *mb_probe, clk);
      case_alert_sink sink;
      if (alerts_svc) {
        sink.raise = [this](alerting::alert a) { alerts_svc->raise(std::move(a)); };
        sink.resolve = [this](const std::string& fp, const std::string& note) { return alerts_svc->resolve(fp, note); };
      }
      if (auto st = cases->start(std::move(sink)); !st) {
        spdlog::critical("event=start_failed step=mailbox error=\"{}\"", st.error_message());
        return 1;
      }
      teardown.push("mailbox", [this] { cases->stop(); });
    }

    if (auto rc = start_risk(); rc != 0) return rc;
    (void)briefings->start();
    teardown.push("briefings", [this] { briefings->stop(); });
    consumer = std::make_unique<ingest>(cfg, bootstrap, *store, [this] { return current_sets(); },
                                        *in_probe, clk);
    consumer->set_mailbox(cases.get());
    consumer->set_stored_hook([this](const storage::batch& b) { risk->stored(b); });
    if (embedded) consumer->set_cluster_id(embedded->cluster_id());
    if (alerts_svc) consumer->set_alert_sink([this](alerting::alert a) { alerts_svc->raise(std::move(a)); });
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
        (void)sets->request("SIGHUP");  // the outcome is logged by the reload
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
