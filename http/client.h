// http/client: one blocking HTTP/1.1 request, for yuqingctl, the notifier, the briefing
// webhooks and the tests.
//
// Errors: a connection or protocol failure is an error naming the address; any HTTP status
// is a reply. Plain http only (put TLS in front of the daemon, see the README).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "config/result.h"

namespace yuqing::http {

struct http_reply {
  int status = 0;
  std::string body;
};

struct http_call {
  std::string address = "127.0.0.1:9464";  // HOST:PORT (a leading http:// is accepted)
  std::string method = "GET";
  std::string target = "/";                 // path and query
  std::string body;
  std::string bearer;                       // sent as "Authorization: Bearer ..." when set
  std::chrono::milliseconds timeout{10000};
};

result<http_reply> http_request_once(const http_call& call);

// "http://host:port/base" -> address "host:port" (port 80 when absent) and path "/base"
// (no trailing slash). An error for anything but plain http.
struct http_url {
  std::string address, path;
};
result<http_url> parse_http_url(const std::string& url);

// Percent-encodes everything but unreserved characters (for query values).
std::string url_encode(std::string_view s);

}  // namespace yuqing::http
