// http_server: the one HTTP port of the daemon (/metrics, /healthz, /readyz, /api/v1/...).
//
// Operation: Boost.Beast on its own thread and io_context. Requests are routed by method
// and path to handlers registered before start(). Bounded (http_limits): request bodies,
// headers, a deadline for the request line and headers (also how long an idle keep-alive
// connection stays) and one for the whole request (against slow clients), open
// connections in all and by client address (further ones are closed at once). Past the
// cap a few reserved connections serve the priority paths only (/healthz, /readyz,
// /metrics; 503 for others), so a flood of the API does not make a healthy daemon look
// dead. Event-stream subscribers have their own cap (503 past it) and leave the
// connection count. A path or query that is not valid percent-encoded UTF-8 answers 400;
// with an allow-list of Host names, other names answer 421 (the priority paths excepted).
// Binds 127.0.0.1 unless configured.
//
// Authentication: routes registered with a role (viewer, officer, analyst, admin = token) need
// "Authorization: Bearer TOKEN" (the scheme in any case): the shared token (an admin without a name) or the token of
// a person, kept as its SHA-256 (both compared in constant time). 401 without or with an
// unknown token; 403 when the person's role may not (admin may everything, officer and
// analyst their own routes, viewer none) or when the server has no tokens (such routes are
// then disabled). Viewer routes (what holds citizens' texts) take any known token, and are
// open when the server has no tokens. The handler gets the person in the request. Other
// routes are open.
//
// Logs: what a client sent (paths) is logged with control characters escaped (log_safe).
//
// Concurrency: handlers run on the server thread, one at a time; they must not block for
// long. start()/stop() from the controlling thread.
#pragma once

#include <functional>
#include <cstddef>
#include <map>
#include <optional>
#include <utility>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/result.h"

namespace yuqing::http {

struct http_request {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // client address, "IP:PORT"
  std::string person, unit, role;  // who the bearer token belongs to (protected routes; shared token: admin, no name)
};

// A person's token: name, unit, role (viewer, officer, analyst, admin), SHA-256 in hex.
struct http_credential {
  std::string name, unit, role, token_sha256;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool www_authenticate = false;  // a 401: ask for a bearer token
  std::vector<std::pair<std::string, std::string>> headers = {};  // further response headers
};

using http_handler = std::function<http_response(const http_request&)>;

struct http_limits {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  int header_timeout_ms = 5000;    // request line and headers, and a keep-alive's idle wait
  int request_timeout_ms = 10000;  // the whole request
  int max_connections = 256;
  int max_connections_per_client = 32;  // by client address, reserved ones included
  int reserved_connections = 8;         // past max_connections, for priority_paths only
  std::vector<std::string> priority_paths = {"/healthz", "/readyz", "/metrics"};
  int max_event_streams = 64;           // event-stream subscribers, apart from the rest
  int stream_write_timeout_ms = 30000;  // a subscriber that takes no data this long is dropped
  std::vector<std::string> allowed_hosts;  // Host names (no port) accepted; empty: any
};

// Server-sent events: clients that GET the stream's path stay connected and receive every
// event published from then on ("id: ID\nevent: NAME\ndata: DATA\n\n"), plus a comment
// line every 15 s so that proxies keep the connection. publish() is thread-safe. A client
// whose queue passes 1000 events (it does not read) is dropped.
//
// Ids are "<start of the process in ms>-<sequence>". A client that connects with the
// Last-Event-ID of an event among the last 1000 of this process gets the events after it
// first (a resumed stream misses nothing); any other client first gets an event
// "snapshot" (when the stream has a snapshot function) whose data is the function's
// result, with the id of the latest event, to resume from.
class event_stream {
 public:
  virtual ~event_stream() = default;
  virtual void publish(const std::string& event, const std::string& data) = 0;
  virtual size_t clients() const = 0;
};

class http_server {
 public:
  http_server();
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  enum class access { open, viewer, officer, analyst, admin, token = admin };
  // Exact path match ("/api/v1/status", "/"), ending in '/', a prefix ("/api/v1/alerts/"),
  // or with one '*' for one path segment ("/api/v1/alerts/*/verdict"). The first route
  // registered that matches the path and method answers.
  void route(const std::string& method, const std::string& path, http_handler h,
             access a = access::open);
  void set_limits(const http_limits& l);
  // Connections the limits turned away since start (any thread): closed at accept (every
  // pool full), and event streams refused with 503.
  struct refusals {
    uint64_t connections = 0, event_streams = 0;
  };
  refusals refused() const;
  // Connections admitted and not yet closed, every pool together (any thread).
  int open_connections() const;
  // A server-sent-events stream at `path` (GET); register before start(). snapshot (may be
  // empty) runs on the server thread when a client connects without a usable Last-Event-ID.
  // With an access level, subscribing needs a token as for a route.
  std::shared_ptr<event_stream> add_event_stream(const std::string& path,
                                                 std::function<std::string()> snapshot = {},
                                                 access a = access::open);
  // The shared bearer token (an admin); empty: none.
  void set_token(std::string token);
  // The people's tokens; register before start(). No token and no people disable the
  // protected routes.
  void set_people(std::vector<http_credential> people);

  // One request from its raw bytes, parsed with the limits and routed like one from a
  // connection, without a socket (the fuzz target and tests use it): 400 when the bytes
  // are not one whole request, 413/431 past the limits.
  http_response serve(std::string_view raw);

  // Binds "HOST:PORT" (port 0: any free port) and starts serving.
  status start(const std::string& listen);
  uint16_t port() const;
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

http_response json_error(int status, const std::string& message);

// `s` fit for a log line: control characters, quotes and backslashes as \xNN escapes.
std::string log_safe(std::string_view s);

// Compares in time that depends on the lengths only, not on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace yuqing::http
