#include "daemon/components.h"

#include <spdlog/spdlog.h>

#include <set>
#include <string>

#include "common/time.h"
#include "daemon/api_json.h"
#include "daemon/routes_sets.h"
#include "sets/hit_excerpt.h"

namespace yuqing::daemon {

using nlohmann::json;

json components::status_json() const {
  json sets_j = json::array();
  for (const auto& s : current_sets()->sets()) {
    const auto& d = s->definition();
    sets_j.push_back({{"id", d.id}, {"name", d.name}, {"topic", d.topic}, {"plan_item", d.plan_item},
                      {"version", d.version}, {"rules", d.rules.size()}, {"file", d.file}});
  }
  const auto c = consumer ? consumer->counters() : ingest::ingest_counters{};
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

void components::add_routes() {
  http->route("GET", "/healthz", [](const http::http_request&) {
    return http::http_response{200, "application/json", R"({"status":"ok"})"};
  });
  http->route("GET", "/readyz", [this](const http::http_request&) {
    const bool ready = consumer && consumer->ready();
    return http::http_response{ready ? 200 : 503, "application/json",
                         json{{"ready", ready}}.dump()};
  });
  http->route("GET", "/metrics", [this](const http::http_request&) {
    return http::http_response{200, "text/plain; version=0.0.4; charset=utf-8", registry.expose()};
  });
  http->route("GET", "/api/v1/status", [this](const http::http_request&) {
    return http::http_response{200, "application/json", status_json().dump()};
  });
  http->route("GET", "/api/v1/hits", [this](const http::http_request& r) {
    storage::hit_query q;
    static const std::set<std::string> known = {"topic", "set", "rule", "channel", "region", "message",
                                                "since", "until", "limit", "excerpt"};
    for (const auto& [key, value] : r.query)
      if (!known.count(key)) return http::json_error(400, key + ": unknown parameter (" + join(known) + ")");
    const bool excerpts = r.query.count("excerpt") && r.query.at("excerpt") == "1";
    if (r.query.count("excerpt") && !excerpts && r.query.at("excerpt") != "0") return http::json_error(400, "excerpt: 0 or 1");
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
      return http::json_error(400, std::string(e.what()) == "limit" ? "limit: a number from 1 to 10000"
                                                             : std::string(e.what()) + ": RFC 3339 time, age (30d) or milliseconds");
    }
    auto hits = store->hits(q);
    if (!hits) return http::json_error(500, hits.error_message());
    json out = json::array();
    for (const auto& h : *hits) {
      out.push_back(precision ? precision->enrich_hit(h, hit_json(h)) : hit_json(h));
      out.back()["local_time"] = common::local_rfc3339(h.time_ms, cfg.mailbox_utc_offset_minutes);
      if (excerpts) out.back()["context"] = sets::hit_excerpt_json(*store, h);
    }
    return http::http_response{200, "application/json",
                         json{{"hits", out}, {"limit_reached", hits->size() >= q.limit}}.dump(
                             -1, ' ', false, json::error_handler_t::replace)};
  }, http::http_server::access::viewer);
  add_tuning_routes();
  if (precision) precision->add_routes(*http);  // before the alerts/ prefix routes
  add_set_file_routes(*http, {sets.get(), store.get(), &clk, cfg.keyword_sets_dir, cfg.mailbox_utc_offset_minutes});
  add_alert_routes();
  add_mailbox_routes();
  http->route("GET", "/api/v1/messages/", [this](const http::http_request& r) {
    const auto key = r.path.substr(std::string("/api/v1/messages/").size());
    auto m = store->message(key);
    if (!m) return http::json_error(500, m.error_message());
    if (!m->has_value()) return http::json_error(404, "no message " + key);
    return http::http_response{200, "application/json", (*m)->to_json()};
  }, http::http_server::access::viewer);
}

}  // namespace yuqing::daemon
