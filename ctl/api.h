// ctl/api: yuqingctl's calls to a running daemon's HTTP API, at --url with --token (or
// YUQING_URL, YUQING_HTTP_TOKEN), shared by every command group.
//
// Errors: a failure to connect, or the daemon's 4xx/5xx with its message, is an error
// result; commands print it and exit 1 (print_or_keep).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "config/result.h"
#include "http/client.h"

namespace yuqing::ctl {

struct api {
  std::string url, token;
  // The raw answer (status and body); an error for a failure to connect.
  result<http::http_reply> send(const std::string& method, const std::string& target,
                                const std::string& body = "") const;
  // The JSON answer; an error for a failure, an answer that is not JSON or a 4xx/5xx.
  result<nlohmann::json> call(const std::string& method, const std::string& target, const std::string& body = "",
                              int* status = nullptr) const;
};

// An answer of the daemon's API, for every yuqingctl command: an error is printed (exit
// code 1); with as_json the answer is printed (0); otherwise it is left in `out` for the
// caller to render (nullopt).
std::optional<int> print_or_keep(result<nlohmann::json> answer, bool as_json, nlohmann::json& out);

}  // namespace yuqing::ctl
