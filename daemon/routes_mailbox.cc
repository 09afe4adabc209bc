#include "daemon/components.h"

#include <spdlog/spdlog.h>

#include <set>
#include <string>

#include "common/time.h"
#include "daemon/api_json.h"

namespace yuqing::daemon {

using nlohmann::json;

void components::add_mailbox_routes() {
  http->route("GET", "/api/v1/cases", [this](const http::http_request& r) {
    mailbox::case_query q;
    q.state = r.query.count("state") ? r.query.at("state") : "";
    q.unit = r.query.count("unit") ? r.query.at("unit") : "";
    static const std::set<std::string> states = {"", "open", "overdue", "closed", "reply_only"};
    if (!states.count(q.state)) return http::json_error(400, "state: open, overdue, closed or reply_only");
    try {
      q.limit = query_count(r, "limit", 1000, 100000);
    } catch (const std::exception&) {
      return http::json_error(400, "limit: a number from 1 to 100000");
    }
    const int64_t now = clk.now_ms();
    auto found = mailbox::list_cases(*store, q, now);
    if (!found) return http::json_error(500, found.error_message());
    json out = json::array();
    for (const auto& c : *found) out.push_back(json::parse(c.to_json(now)));
    return http::http_response{200, "application/json", json{{"cases", out}}.dump(-1, ' ', false, json::error_handler_t::replace)};
  }, http::http_server::access::viewer);
  http->route("GET", "/api/v1/report", [this](const http::http_request& r) {
    int64_t from = 0, to = 0;
    const int64_t now = clk.now_ms();
    try {
      from = query_int(r, "from", now - int64_t{30} * 86400000);
      to = query_int(r, "to", now);
    } catch (const std::exception&) {
      return http::json_error(400, "from/to: RFC 3339 time, milliseconds or an age (30d)");
    }
    const std::string format = r.query.count("format") ? r.query.at("format") : "json";
    if (format != "json" && format != "md" && format != "csv") return http::json_error(400, "format: json, md or csv");
    auto report = mailbox::build_report(*store, from, to, now);
    if (!report) return http::json_error(500, report.error_message());
    if (format == "md") return http::http_response{200, "text/markdown; charset=utf-8", report->to_markdown()};
    if (format == "csv") return http::http_response{200, "text/csv; charset=utf-8", report->to_csv()};
    return http::http_response{200, "application/json", report->to_json()};
  }, http::http_server::access::viewer);
}

}  // namespace yuqing::daemon
