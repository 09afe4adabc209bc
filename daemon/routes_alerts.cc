#include "daemon/components.h"

#include <spdlog/spdlog.h>

#include <set>
#include <string>

#include "common/time.h"
#include "daemon/api_json.h"

namespace yuqing::daemon {

using nlohmann::json;

void components::add_alert_routes() {
  using access = http::http_server::access;
  auto unavailable = [] { return http::json_error(503, "alerting is disabled (alerting.enabled: false)"); };
  http->route("GET", "/api/v1/alerts", [this, unavailable](const http::http_request& r) {
    if (!alerts_svc) return unavailable();
    alerting::alert_query q;
    if (auto bad = read_alert_query(r, q); !bad.empty()) return http::json_error(400, bad);
    auto found = alerts_svc->alerts(q);
    if (!found) return http::json_error(500, found.error_message());
    json out = json::array();
    for (const auto& a : *found) out.push_back(alert_json(a, cfg.mailbox_utc_offset_minutes));
    return http::http_response{200, "application/json", json{{"alerts", out}}.dump()};
  }, http::http_server::access::viewer);
  http->route("GET", "/api/v1/alerts/", [this, unavailable](const http::http_request& r) {
    if (!alerts_svc) return unavailable();
    const auto id = r.path.substr(std::string("/api/v1/alerts/").size());
    auto a = store->get("alerts", id);
    if (!a) return http::json_error(500, a.error_message());
    if (!a->has_value()) return http::json_error(404, "no alert " + id);
    const auto parsed = alerting::alert::from_json(**a);
    if (!parsed) return http::json_error(500, "alert " + id + " is unreadable in the store");
    return http::http_response{200, "application/json", alert_json(*parsed, cfg.mailbox_utc_offset_minutes).dump()};
  }, http::http_server::access::viewer);
  // POST /api/v1/alerts/{id}/ack and /handle with {"who": "...", "note": "..."}.
  http->route("POST", "/api/v1/alerts/", [this, unavailable](const http::http_request& r) {
    if (!alerts_svc) return unavailable();
    const auto rest = r.path.substr(std::string("/api/v1/alerts/").size());
    const auto slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (action != "ack" && action != "handle") return http::json_error(404, "POST /api/v1/alerts/{id}/ack or /handle");
    json body = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
    if (!body.is_object()) return http::json_error(400, "expected {\"who\": \"...\", \"note\": \"...\"}");
    for (const char* field : {"who", "note"})
      if (body.contains(field) && !body[field].is_string()) return http::json_error(400, std::string(field) + ": a string");
    constexpr size_t max_note_bytes = 4096;
    if (body.contains("note") && body["note"].get<std::string>().size() > max_note_bytes)
      return http::json_error(400, "note: at most 4096 bytes");
    // A person's token names them; with the shared token the body says who.
    const std::string who = !r.person.empty() ? r.person + "（" + r.unit + "）" : body.value("who", "");
    if (who.empty()) return http::json_error(400, "who: the person acknowledging or handling");
    const std::string note = body.value("note", "");
    auto a = action == "ack" ? alerts_svc->acknowledge(id, who, note) : alerts_svc->handle(id, who, note);
    if (!a) {
      const bool unknown = a.error_message().rfind("no alert", 0) == 0;
      return http::json_error(unknown ? 404 : 409, a.error_message() +
                                                 (unknown ? " (active alerts live on the instance that owns their topic)" : ""));
    }
    return http::http_response{200, "application/json", alert_json(*a, cfg.mailbox_utc_offset_minutes).dump()};
  }, access::officer);
}

}  // namespace yuqing::daemon
