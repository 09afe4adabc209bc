// Fuzz target: the HTTP request handling of the daemon's server — Beast's parser with our
// limits, the target's path and query decoding, the headers, routing by method and path,
// the bearer-token check — on routes shaped like the daemon's (exact, prefix, token, JSON
// body). Any input gets a response with a status the server can send; a token route never
// runs without the token.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "http/server.h"

using namespace yuqing::http;

namespace {

bool token_route_ran = false;

http_server& server() {
  static http_server* s = [] {
    auto* srv = new http_server();
    http_limits l;
    l.max_body_bytes = 4096;
    l.max_header_bytes = 2048;
    srv->set_limits(l);
    srv->set_token("fuzz-token");
    srv->route("GET", "/api/v1/status", [](const http_request& r) {
      return http_response{200, "application/json", nlohmann::json{{"query", r.query}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    });
    srv->route("GET", "/api/v1/alerts/", [](const http_request& r) {
      return http_response{200, "application/json", nlohmann::json{{"id", r.path.substr(15)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    });
    srv->route("POST", "/api/v1/alerts/", [](const http_request& r) {
      token_route_ran = true;
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return json_error(400, "expected a JSON object");
      return http_response{200, "application/json", "{}"};
    }, http_server::access::token);
    (void)srv->add_event_stream("/api/v1/alerts/stream");
    return srv;
  }();
  return *s;
}

bool has_token(std::string_view raw) { return raw.find("fuzz-token") != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  token_route_ran = false;
  const auto res = server().serve(raw);
  if (res.status < 200 || res.status > 599) std::abort();
  if (token_route_ran && !has_token(raw)) std::abort();  // got past the token check without it
  if (res.status == 401 && !res.www_authenticate) std::abort();
  return 0;
}
