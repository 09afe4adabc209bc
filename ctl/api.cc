#include "ctl/api.h"

#include <chrono>
#include <iostream>

namespace yuqing::ctl {

using nlohmann::json;

result<http::http_reply> api::send(const std::string& method, const std::string& target,
                                   const std::string& body) const {
  http::http_call c;
  c.address = url;
  c.method = method;
  c.target = target;
  c.body = body;
  c.bearer = token;
  c.timeout = std::chrono::seconds(120);
  return http::http_request_once(c);
}

result<json> api::call(const std::string& method, const std::string& target, const std::string& body,
                       int* status) const {
  auto r = send(method, target, body);
  if (!r) return error{r.error_message()};
  if (status) *status = r->status;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return error{"HTTP " + std::to_string(r->status) + ": " + r->body};
  if (r->status >= 400) return error{"HTTP " + std::to_string(r->status) + ": " + j.value("error", r->body)};
  return j;
}

std::optional<int> print_or_keep(result<json> answer, bool as_json, json& out) {
  if (!answer) {
    std::cerr << answer.error_message() << "\n";
    return 1;
  }
  if (as_json) {
    std::cout << answer->dump(2) << "\n";
    return 0;
  }
  out = std::move(*answer);
  return std::nullopt;
}

}  // namespace yuqing::ctl
