// The risk routes (issue 24): the index with its parts, series and snapshots, a stored
// message's tendency, and the policies with their reaction curves. A bad parameter
// answers 400 naming it.
#include <nlohmann/json.hpp>

#include <functional>
#include <set>

#include "http/server.h"
#include "daemon/risk_service.h"

namespace yuqing::daemon {

namespace {

using nlohmann::json;

http::http_response bad(const std::string& what) { return {400, "application/json", json{{"error", what}}.dump()}; }
http::http_response ok(const std::string& body) { return {200, "application/json", body}; }

// "" or the first parameter not in `known`, named.
std::string unknown_parameter(const http::http_request& r, const std::set<std::string>& known) {
  for (const auto& [key, value] : r.query)
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return key + ": unknown parameter (" + list + ")";
    }
  return "";
}

std::string param(const http::http_request& r, const std::string& key) {
  auto it = r.query.find(key);
  return it == r.query.end() ? std::string() : it->second;
}

// A time parameter (YYYY-MM-DD or RFC 3339); `dflt` when absent; nullopt when malformed.
std::optional<int64_t> time_param(const http::http_request& r, const std::string& key, int64_t dflt, int off) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return dflt;
  return risk::parse_time(it->second, off);
}

std::string readings_json(const std::vector<risk::reading>& rs, int off) {
  std::string out = "[";
  for (const auto& r : rs) out += (out.size() > 1 ? "," : "") + r.to_json(off);
  return out + "]";
}

using router = std::function<void(const std::string&, const std::string&, http::http_handler, http::http_server::access)>;

void add_index_routes(const router& route, risk_service& svc, const clock& clk, int off) {
  route("GET", "/api/v1/risk", [&svc, off](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {"topic", "region", "at"}); !e.empty()) return bad(e);
    const risk::query q{param(r, "topic"), param(r, "region")};
    std::vector<risk::reading> rs;
    if (r.query.count("at")) {
      auto at = time_param(r, "at", 0, off);
      if (!at) return bad("at: expected YYYY-MM-DD or RFC 3339");
      rs = svc.engine().at(*at, q);
    } else {
      rs = svc.engine().current(q);
    }
    if (!q.topic.empty() && rs.empty()) return http::http_response{404, "application/json", json{{"error", "topic: no such topic (or region) with messages"}}.dump()};
    const auto& o = svc.engine().settings();
    return ok("{\"window_minutes\":" + std::to_string(o.window_ms / 60000) +
              ",\"step_minutes\":" + std::to_string(o.step_ms / 60000) +
              ",\"tendency\":" + (svc.engine().lexicon_in_force() ? "\"lexicon\"" : "\"unknown: no lexicon\"") +
              ",\"readings\":" + readings_json(rs, off) + "}");
  }, http::http_server::access::viewer);
  route("GET", "/api/v1/risk/series", [&svc, &clk, off](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {"topic", "region", "from", "to"}); !e.empty()) return bad(e);
    const auto topic = param(r, "topic");
    if (topic.empty()) return bad("topic: required");
    const auto region = r.query.count("region") ? param(r, "region") : std::string(risk::all_regions);
    const int64_t newest = svc.engine().newest_ms() ? svc.engine().newest_ms() : clk.now_ms();
    auto to = time_param(r, "to", newest + svc.engine().settings().step_ms, off);
    if (!to) return bad("to: expected YYYY-MM-DD or RFC 3339");
    auto from = time_param(r, "from", *to - int64_t{24} * 3600 * 1000, off);
    if (!from) return bad("from: expected YYYY-MM-DD or RFC 3339");
    if (*from >= *to) return bad("from: must be before to");
    const auto head = json{{"topic", topic}, {"region", region}}.dump();
    return ok(head.substr(0, head.size() - 1) + ",\"readings\":" +
              readings_json(svc.engine().series(topic, region, *from, *to), off) + "}");
  }, http::http_server::access::viewer);
  route("GET", "/api/v1/risk/snapshot", [&svc, &clk, off](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {"topic", "region", "from", "to"}); !e.empty()) return bad(e);
    auto to = time_param(r, "to", clk.now_ms(), off);
    if (!to) return bad("to: expected YYYY-MM-DD or RFC 3339");
    auto from = time_param(r, "from", *to - int64_t{24} * 3600 * 1000, off);
    if (!from) return bad("from: expected YYYY-MM-DD or RFC 3339");
    if (*from >= *to) return bad("from: must be before to");
    return ok(svc.engine().snapshot_of(*from, *to, {param(r, "topic"), param(r, "region")}).to_json(off));
  }, http::http_server::access::viewer);
}

void add_policy_routes(const router& route, risk_service& svc, const storage::store& store, const clock& clk, int off) {
  route("GET", "/api/v1/tendency", [&svc, &store](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {"message"}); !e.empty()) return bad(e);
    const auto key = param(r, "message");
    if (key.empty()) return bad("message: required (a message key)");
    auto m = store.message(key);
    if (!m) return http::http_response{503, "application/json", json{{"error", m.error_message()}}.dump()};
    if (!*m) return http::http_response{404, "application/json", json{{"error", "message: not stored (or past retention)"}}.dump()};
    const auto a = svc.engine().tendency_of(**m);
    return ok(json{{"message", key}, {"tendency", risk::to_string(a.t)}, {"label", risk::to_chinese(a.t)},
                   {"score", a.score}, {"evidence", a.evidence}, {"region", svc.engine().region_of(**m)}}
                  .dump());
  }, http::http_server::access::viewer);
  route("GET", "/api/v1/policies", [&svc, off](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {}); !e.empty()) return bad(e);
    std::string out = "[";
    for (const auto& p : svc.policies().list()) out += (out.size() > 1 ? "," : "") + p.to_json(off);
    return ok("{\"policies\":" + out + "]}");
  }, http::http_server::access::viewer);
  route("GET", "/api/v1/policies/", [&svc, &clk, off](const http::http_request& r) {
    if (auto e = unknown_parameter(r, {"until"}); !e.empty()) return bad(e);
    const auto id = r.path.substr(std::string("/api/v1/policies/").size());
    auto until = time_param(r, "until", clk.now_ms(), off);
    if (!until) return bad("until: expected YYYY-MM-DD or RFC 3339");
    if (!svc.policies().get(id)) return http::http_response{404, "application/json", json{{"error", "id: no policy " + id}}.dump()};
    auto c = svc.curve(id, *until);
    if (!c) return http::http_response{503, "application/json", json{{"error", c.error_message()}}.dump()};
    return ok(c->to_json(off));
  }, http::http_server::access::viewer);
  route("POST", "/api/v1/policies", [&svc, off](const http::http_request& r) {
    auto p = risk::policy::from_json(r.body, off);
    if (!p) return bad(p.error_message());
    if (auto st = svc.policies().register_policy(*p); !st) return bad(st.error_message());
    return http::http_response{201, "application/json", svc.policies().get(p->id)->to_json(off)};
  }, http::http_server::access::analyst);
  route("DELETE", "/api/v1/policies/", [&svc](const http::http_request& r) {
    const auto id = r.path.substr(std::string("/api/v1/policies/").size());
    if (auto st = svc.policies().remove(id); !st) return bad(st.error_message());
    return ok(json{{"removed", id}}.dump());
  }, http::http_server::access::analyst);
}

}  // namespace

void add_risk_routes(http::http_server& http, risk_service& svc, const storage::store& store, const clock& clk, int off) {
  // Every handler waits for the service's start (the rebuild from the store).
  auto guarded = [&http, &svc](const std::string& method, const std::string& path, http::http_handler h,
                               http::http_server::access a) {
    http.route(method, path, [&svc, h = std::move(h)](const http::http_request& r) {
      if (!svc.ready()) return http::http_response{503, "application/json", json{{"error", "risk: starting"}}.dump()};
      return h(r);
    }, a);
  };
  add_index_routes(guarded, svc, clk, off);
  add_policy_routes(guarded, svc, store, clk, off);
}

}  // namespace yuqing::daemon
