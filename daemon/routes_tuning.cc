#include "daemon/components.h"

#include <spdlog/spdlog.h>

#include <set>
#include <string>

#include "common/time.h"
#include "daemon/api_json.h"

namespace yuqing::daemon {

using nlohmann::json;

json components::keyword_sets_json() const {
  auto history = store->set_versions("", 20);
  json out = json::array();
  for (const auto& l : sets->sets()) {
    const auto& d = l.set->definition();
    json versions = json::array();
    if (history) {
      for (const auto& v : *history) {
        if (v.set_id != d.id) continue;
        versions.push_back({{"version", v.version}, {"loaded", common::format_rfc3339(v.loaded_ms)},
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
                   {"loaded", common::format_rfc3339(l.loaded_ms)},
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
json components::rules_json(size_t top) const {
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
                                {"time", common::format_rfc3339(c.example_time_ms)}}}});
  }
  if (precision) precision->rank_rules(out);  // by false hits and precision when judged
  if (out.size() > top) out.erase(out.begin() + static_cast<std::ptrdiff_t>(top), out.end());
  return {{"since", common::format_rfc3339(started_ms)}, {"messages", consumed}, {"hits", total},
          {"rules", out}};
}

void components::add_tuning_routes() {
  using access = http::http_server::access;
  http->route("GET", "/api/v1/keyword-sets", [this](const http::http_request&) {
    return http::http_response{200, "application/json", keyword_sets_json().dump()};
  });
  http->route("POST", "/api/v1/keyword-sets/reload", [this](const http::http_request& r) {
    spdlog::info("event=reload_requested trigger=http remote={}", r.remote);
    auto f = sets->request("http " + r.remote);
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
      return http::http_response{202, "application/json",
                           json{{"state", "running"}, {"see", "/api/v1/keyword-sets"}}.dump()};
    const auto o = f.get();
    return http::http_response{o.ok ? 200 : 422, "application/json", outcome_json(o).dump()};
  }, http::http_server::access::analyst);
  http->route("GET", "/api/v1/rules", [this](const http::http_request& r) {
    int64_t top = 20;
    try {
      top = static_cast<int64_t>(query_count(r, "top", 20, 10000));
    } catch (const std::exception&) {
      return http::json_error(400, "top: a number from 1 to 10000");
    }
    return http::http_response{200, "application/json", rules_json(static_cast<size_t>(top)).dump()};
  }, http::http_server::access::viewer);  // each rule's latest example is a citizen's text
  // Dry run: {"text": "..."} or {"fields": {"title": "...", ...}}, optionally "set" (YAML
  // of a candidate set; default: the sets in force).
  add_test_routes();
}

// POST /api/v1/test (a text against a posted set) and the backtests of a candidate set.
void components::add_test_routes() {
  http->route("POST", "/api/v1/test", [this](const http::http_request& r) {
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) return http::json_error(400, "expected a JSON object");
    std::vector<std::string> names, values;
    if (body.contains("text") && body["text"].is_string()) {
      names.push_back("text");
      values.push_back(body["text"]);
    } else if (body.contains("fields") && body["fields"].is_object()) {
      for (const auto& [k, v] : body["fields"].items()) {
        if (!v.is_string()) return http::json_error(400, "fields." + k + ": expected a string");
        names.push_back(k);
        values.push_back(v);
      }
    } else {
      return http::json_error(400, "give \"text\" or \"fields\"");
    }
    std::vector<std::string_view> fields(values.begin(), values.end());
    std::vector<matchers::hit> found;
    std::shared_ptr<const matchers::compiled_set> candidate;
    std::shared_ptr<const matchers::matcher> running;
    if (body.contains("set")) {
      if (!body["set"].is_string()) return http::json_error(400, "set: the YAML text of a keyword set");
      auto c = posted_set(*sets, body["set"]);
      if (!c) return http::json_error(400, c.error_message());
      if (!*c) return still_compiling();
      candidate = *c;
      candidate->match(fields, found);
    } else {
      running = current_sets();
      running->match(fields, found);
    }
    json hits = json::array();
    for (const auto& h : found) hits.push_back(hit_json(h, names, fields));
    return http::http_response{200, "application/json",
                         json{{"against", candidate ? "posted" : "running"}, {"hits", hits}}.dump()};
  }, http::http_server::access::analyst);
  // {"set": "<YAML>", "since": "7d", "examples": 3}: 202 and the job's id.
  http->route("POST", "/api/v1/backtest", [this](const http::http_request& r) {
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("set") || !body["set"].is_string())
      return http::json_error(400, "expected {\"set\": \"<YAML of the candidate set>\", \"since\": \"7d\"}");
    sets::backtest_request req;
    const std::string since = body.value("since", "7d");
    if (!common::parse_time_or_age(since, clk.now_ms(), req.since_ms))
      return http::json_error(400, "since: RFC 3339, milliseconds or an age like 7d");
    req.examples = std::clamp<size_t>(body.value("examples", size_t{3}), 0, 100);
    req.cpu_share = cfg.backtest_max_cpu_percent / 100.0;
    auto c = posted_set(*sets, body["set"]);
    if (!c) {
      spdlog::warn("event=backtest_rejected remote={} reason=invalid_set", r.remote);
      return http::json_error(400, c.error_message());
    }
    if (!*c) return still_compiling();
    req.candidate = *c;
    for (const auto& s : current_sets()->sets())
      if (s->definition().id == req.candidate->definition().id) req.running = s;
    auto id = backtests->start(std::move(req), r.remote);
    if (!id) return http::json_error(409, id.error_message());
    return http::http_response{202, "application/json",
                         json{{"id", *id}, {"url", "/api/v1/backtest/" + *id}}.dump()};
  }, http::http_server::access::analyst);
  http->route("GET", "/api/v1/backtest/", [this](const http::http_request& r) {
    const auto id = r.path.substr(std::string("/api/v1/backtest/").size());
    auto j = backtests->get(id);
    if (!j) return http::json_error(404, "no backtest " + id);
    return http::http_response{200, "application/json", *j};
  }, http::http_server::access::viewer);  // its examples are messages
}

}  // namespace yuqing::daemon
