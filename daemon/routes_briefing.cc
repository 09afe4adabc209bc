// The briefing routes (issue 24 item 4): the list, one briefing in each format, and making
// one now. A bad parameter answers 400 naming it.
#include <nlohmann/json.hpp>

#include <set>

#include "daemon/briefing_service.h"
#include "http/server.h"

namespace yuqing::daemon {

namespace {

using nlohmann::json;

http::http_response bad(const std::string& what) { return {400, "application/json", json{{"error", what}}.dump()}; }

std::string unknown_parameter(const std::map<std::string, std::string>& params, const std::set<std::string>& known) {
  for (const auto& [key, value] : params)
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return key + ": unknown parameter (" + list + ")";
    }
  return "";
}

}  // namespace

void add_briefing_routes(http::http_server& http, briefing_service& svc) {
  http.route("GET", "/api/v1/briefings", [&svc](const http::http_request& r) {
    if (auto e = unknown_parameter(r.query, {"limit"}); !e.empty()) return bad(e);
    size_t limit = 100;
    if (auto it = r.query.find("limit"); it != r.query.end()) {
      try {
        size_t used = 0;
        const long v = std::stol(it->second, &used);
        if (used != it->second.size() || v < 1 || v > 10000) throw std::out_of_range("limit");
        limit = static_cast<size_t>(v);
      } catch (const std::exception&) {
        return bad("limit: a number from 1 to 10000");
      }
    }
    auto found = svc.list(limit);
    if (!found) return http::http_response{500, "application/json", json{{"error", found.error_message()}}.dump()};
    std::string out = "{\"briefings\":[";
    for (size_t i = 0; i < found->size(); ++i) out += (i ? "," : "") + (*found)[i].summary_json(svc.utc_offset_minutes());
    return http::http_response{200, "application/json", out + "]}"};
  }, http::http_server::access::viewer);

  http.route("GET", "/api/v1/briefings/", [&svc](const http::http_request& r) {
    const auto id = r.path.substr(std::string("/api/v1/briefings/").size());
    if (auto e = unknown_parameter(r.query, {"format"}); !e.empty()) return bad(e);
    const std::string format = r.query.count("format") ? r.query.at("format") : "json";
    if (format != "md" && format != "html" && format != "json") return bad("format: md, html or json");
    if (id.empty() || id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
      return bad("id: a briefing id such as daily-2022-11-21");
    auto found = svc.get(id);
    if (!found) return http::http_response{500, "application/json", json{{"error", found.error_message()}}.dump()};
    if (!found->has_value()) return http::http_response{404, "application/json", json{{"error", "id: no briefing " + id}}.dump()};
    const auto& b = **found;
    http::http_response out;
    if (format == "md") {
      out = {200, "text/markdown; charset=utf-8", b.markdown};
    } else if (format == "html") {
      out = {200, "text/html; charset=utf-8", b.html};
      // Nothing in it may load or run anything (it is self-contained).
      out.headers.push_back({"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:"});
    } else {
      out = {200, "application/json", b.json};
    }
    out.headers.push_back({"Content-Disposition", "attachment; filename=\"" + b.id + "." + format + "\""});
    return out;
  }, http::http_server::access::viewer);

  http.route("POST", "/api/v1/briefings", [&svc](const http::http_request& r) {
    std::map<std::string, std::string> params = r.query;
    if (!r.body.empty()) {
      json body;
      try {
        body = json::parse(r.body);
      } catch (const std::exception&) {
        return bad("body: expected JSON {\"kind\": \"daily\"|\"weekly\", \"date\": \"YYYY-MM-DD\"}");
      }
      if (!body.is_object()) return bad("body: expected a JSON object");
      for (const auto& [k, v] : body.items()) {
        if (!v.is_string()) return bad(k + ": expected a string");
        params[k] = v.get<std::string>();
      }
    }
    if (auto e = unknown_parameter(params, {"kind", "date"}); !e.empty()) return bad(e);
    const std::string kind = params.count("kind") ? params["kind"] : "daily";
    if (!briefing::parse_kind(kind)) return bad("kind: daily or weekly");
    const int off = svc.utc_offset_minutes();
    if (!params.count("date")) return bad("date: required (YYYY-MM-DD, a local date; weekly: any day of the week)");
    const auto p = briefing::parse_period(kind, params["date"], off);
    if (!p) return bad("date: expected YYYY-MM-DD (a local date)");
    auto made = svc.make(*p, r.person.empty() ? "api" : "api " + r.person);
    if (!made) return http::http_response{500, "application/json", json{{"error", made.error_message()}}.dump()};
    return http::http_response{201, "application/json", made->summary_json(off)};
  }, http::http_server::access::analyst);  // analysts (and admin) write briefings, as policies
}

}  // namespace yuqing::daemon
