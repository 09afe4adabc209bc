// The HTTP surface refuses what it must, over real sockets: POST routes without the bearer
// token (401, and 403 while no token is configured), oversized bodies (413) and headers
// (431), clients too slow to send a request (closed after the deadline), connections past
// the cap (closed at once), and it binds 127.0.0.1 unless told otherwise. Floods of
// event-stream subscribers or half-sent requests leave /healthz and /metrics answering;
// paths are escaped in logs, invalid encodings answer 400, the bearer scheme is
// case-insensitive and a Host allow-list is kept.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "config/config.h"
#include "http/server.h"
#include "tests/support/process.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace yuqing;
using namespace yuqing::http;
using namespace std::chrono_literals;

namespace {

// A raw client connection.
struct raw_client {
  int fd = -1;
  // From `source` (any 127.x.y.z address is this machine: a client of its own).
  explicit raw_client(uint16_t port, const char* source = nullptr) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source) {
      sockaddr_in b{};
      b.sin_family = AF_INET;
      REQUIRE(::inet_pton(AF_INET, source, &b.sin_addr) == 1);
      REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_client() { ::close(fd); }
  void send(const std::string& s) const { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  // What the server sends until it closes or `timeout` passes; closed tells which.
  std::string read_all(std::chrono::milliseconds timeout, bool* closed = nullptr) const {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }
};

struct server_fixture {
  http_server server;
  explicit server_fixture(const std::string& token, http_limits limits = {}) {
    server.set_limits(limits);
    server.set_token(token);
    server.route("GET", "/open", [](const http_request&) { return http_response{200, "text/plain", "ok"}; });
    server.route("POST", "/guarded", [](const http_request& r) { return http_response{200, "text/plain", r.body}; },
                 http_server::access::token);
    REQUIRE(server.start("127.0.0.1:0"));
  }
  ~server_fixture() { server.stop(); }
  uint16_t port() const { return server.port(); }
};

int status_of(const std::string& response) {
  return response.size() > 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

}  // namespace

TEST_CASE("http: POST routes need the bearer token, compared in constant time", "[http]") {
  server_fixture f("s3cret");
  CHECK(testing::http_post(f.port(), "/guarded", "x").status == 401);
  CHECK(testing::http_post(f.port(), "/guarded", "x", "wrong").status == 401);
  CHECK(testing::http_post(f.port(), "/guarded", "x", "s3cret").status == 200);
  raw_client c(f.port());
  c.send("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  const auto r = c.read_all(3s);
  CHECK(status_of(r) == 401);
  CHECK(r.find("WWW-Authenticate: Bearer") != std::string::npos);
  CHECK(testing::http_get(f.port(), "/open").status == 200);
  CHECK(testing::http_get(f.port(), "/guarded").status == 405);
  CHECK(testing::http_get(f.port(), "/nowhere").status == 404);
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("http: without a configured token, POST routes are refused (403)", "[http]") {
  server_fixture f("");
  CHECK(testing::http_post(f.port(), "/guarded", "x", "anything").status == 403);
}

TEST_CASE("http: oversized bodies and headers are refused", "[http]") {
  http_limits l;
  l.max_body_bytes = 1000;
  l.max_header_bytes = 1000;
  server_fixture f("t", l);
  {
    raw_client c(f.port());
    c.send("POST /guarded HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 5000\r\n\r\n" +
           std::string(5000, 'a'));
    CHECK(status_of(c.read_all(3s)) == 413);
  }
  {
    raw_client c(f.port());
    c.send("GET /open HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n");
    CHECK(status_of(c.read_all(3s)) == 431);
  }
  CHECK(testing::http_post(f.port(), "/guarded", std::string(900, 'c'), "t").status == 200);
}

TEST_CASE("http: a client too slow to send its request is disconnected at the deadline", "[http]") {
  http_limits l;
  l.request_timeout_ms = 300;
  server_fixture f("t", l);
  raw_client c(f.port());
  c.send("GET /open HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  bool closed = false;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = c.read_all(5s, &closed);
  CHECK(closed);
  CHECK(r.empty());
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(testing::http_get(f.port(), "/open").status == 200);  // others are served meanwhile
}

TEST_CASE("http: connections past the cap are closed at once", "[http]") {
  http_limits l;
  l.max_connections = 2;
  l.reserved_connections = 0;  // (reserved ones: see the half-sent flood below)
  server_fixture f("t", l);
  auto a = std::make_unique<raw_client>(f.port());
  auto b = std::make_unique<raw_client>(f.port());
  REQUIRE(testing::eventually([&] { return f.server.open_connections() == 2; }, 5s));  // both accepted, idle
  {
    raw_client c(f.port());
    bool closed = false;
    c.read_all(2s, &closed);
    CHECK(closed);
  }
  bool a_closed = true;
  a->read_all(100ms, &a_closed);
  CHECK_FALSE(a_closed);  // the first two stay
  b.reset();
  REQUIRE(testing::eventually([&] { return f.server.open_connections() == 1; }, 5s));
  CHECK(testing::http_get(f.port(), "/open").status == 200);  // a free slot again
}

TEST_CASE("http: the daemon listens on 127.0.0.1 unless configured otherwise", "[http]") {
  for (const auto& k : config::keys())
    if (k.name == "http.listen") CHECK(k.default_value.rfind("127.0.0.1:", 0) == 0);
  auto cfg = config::load_string("channels:\n  - {topic: t}\n", "t.yaml", "/");
  REQUIRE(cfg);
  CHECK(cfg->http_listen.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("http: requests served from raw bytes follow the same limits and routes", "[http]") {
  http_server s;
  http_limits l;
  l.max_body_bytes = 10;
  s.set_limits(l);
  s.set_token("t");
  s.route("GET", "/open", [](const http_request& r) { return http_response{200, "text/plain", r.query.at("q")}; });
  s.route("POST", "/guarded", [](const http_request&) { return http_response{200, "text/plain", ""}; },
          http_server::access::token);
  auto r = s.serve("GET /open?q=%E7%96%AB+x HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.body == "疫 x");
  CHECK(s.serve("POST /guarded HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}").status == 401);
  CHECK(s.serve("POST /guarded HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}").status == 200);
  CHECK(s.serve("POST /guarded HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 20\r\n\r\n01234567890123456789").status == 413);
  CHECK(s.serve("GET /open HTTP/1.1\r\n").status == 400);
  CHECK(s.serve("\x01\x02garbage").status == 400);
}

namespace {

// A server with the probe paths and an event stream, under the default limits.
struct busy_fixture {
  http_server server;
  std::shared_ptr<event_stream> events;
  explicit busy_fixture(http_limits limits = {}) {
    server.set_limits(limits);
    for (const char* path : {"/healthz", "/metrics", "/open"})
      server.route("GET", path, [](const http_request&) { return http_response{200, "text/plain", "ok"}; });
    events = server.add_event_stream("/events");
    REQUIRE(server.start("127.0.0.1:0"));
  }
  ~busy_fixture() { server.stop(); }
  uint16_t port() const { return server.port(); }
};

// One request on a fresh connection from `source`; its status (0: closed without one).
int status_from_here(uint16_t port, const std::string& path, const std::string& headers = "",
                     const std::string& source = "127.0.0.1") {
  raw_client c(port, source.c_str());
  c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "Connection: close\r\n\r\n");
  return status_of(c.read_all(5s));
}

// 256 clients spread over 8 addresses (127.0.0.2 .. 127.0.0.9), 32 each.
std::vector<std::unique_ptr<raw_client>> flood(uint16_t port, const std::string& send) {
  std::vector<std::unique_ptr<raw_client>> all;
  for (int i = 0; i < 256; ++i) {
    const std::string source = "127.0.0." + std::to_string(2 + i % 8);
    all.push_back(std::make_unique<raw_client>(port, source.c_str()));
    all.back()->send(send);
  }
  return all;
}

}  // namespace

TEST_CASE("http: 256 event-stream subscribers have their own cap, /healthz and /metrics still answer", "[http]") {
  busy_fixture f;
  auto subscribers = flood(f.port(), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  // Every subscriber hears back: the stream, or 503 past the streams' cap.
  int streaming = 0, refused = 0;
  for (auto& c : subscribers) {
    const auto r = c->read_all(100ms);
    streaming += r.find("text/event-stream") != std::string::npos;
    refused += status_of(r) == 503;
  }
  CHECK(streaming == http_limits{}.max_event_streams);
  CHECK(refused == 256 - streaming);
  CHECK(f.events->clients() == static_cast<size_t>(streaming));
  CHECK(status_from_here(f.port(), "/healthz") == 200);
  CHECK(status_from_here(f.port(), "/metrics") == 200);
  CHECK(status_from_here(f.port(), "/open") == 200);
}

TEST_CASE("http: 256 half-sent requests: /healthz and /metrics still answer, headers have a deadline", "[http]") {
  busy_fixture f;  // headers within 5 s
  auto half = flood(f.port(), "GET /open HTTP/1.1\r\nHost: x\r\n");  // never the blank line
  REQUIRE(testing::eventually([&] { return f.server.open_connections() == 256; }, 10s));  // all accepted
  // The API's connections are taken: the reserved ones serve the probe paths only.
  CHECK(status_from_here(f.port(), "/healthz") == 200);
  CHECK(status_from_here(f.port(), "/metrics") == 200);
  CHECK(status_from_here(f.port(), "/open") == 503);
  // The half-sent requests are closed at the header deadline, and the API answers again.
  bool closed = false;
  half.back()->read_all(15s, &closed);
  CHECK(closed);
  half.clear();
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (status_from_here(f.port(), "/open") != 200 && std::chrono::steady_clock::now() < until) {
  }
  CHECK(status_from_here(f.port(), "/open") == 200);
}

TEST_CASE("http: one client gets at most max_connections_per_client connections", "[http]") {
  http_limits l;
  l.max_connections_per_client = 3;
  busy_fixture f(l);
  std::vector<std::unique_ptr<raw_client>> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(std::make_unique<raw_client>(f.port(), "127.0.0.2"));
  REQUIRE(testing::eventually([&] { return f.server.open_connections() == 3; }, 5s));  // all accepted
  // Past its cap a client gets the reserved slots, for the probe paths only: a health check
  // behind the same proxy address as a flood still answers.
  CHECK(status_from_here(f.port(), "/open", "", "127.0.0.2") == 503);
  CHECK(status_from_here(f.port(), "/healthz", "", "127.0.0.2") == 200);
  CHECK(status_from_here(f.port(), "/open") == 200);  // another client is served
  // With the reserved slots taken too, a further connection is closed at once, and counted.
  for (int i = 0; i < 8; ++i) mine.push_back(std::make_unique<raw_client>(f.port(), "127.0.0.2"));
  REQUIRE(testing::eventually([&] { return f.server.open_connections() == 3 + 8; }, 5s));  // in the reserved pool
  raw_client last(f.port(), "127.0.0.2");
  bool closed = false;
  last.read_all(2s, &closed);
  CHECK(closed);
  CHECK(f.server.refused().connections >= 1);
}

TEST_CASE("http: control characters of a path are escaped in the log", "[http]") {
  CHECK(log_safe("/a\nevent=x \"q\" \\ \x7f") == "/a\\x0aevent=x \\x22q\\x22 \\x5c \\x7f");
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
  {
    http_server s;
    s.set_token("s3cret");
    s.route("POST", "/cases/", [](const http_request&) { return http_response{}; }, http_server::access::token);
    REQUIRE(s.start("127.0.0.1:0"));
    raw_client c(s.port());
    c.send("POST /cases/1%0a2026-01-01%20level=info%20event=forged HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 0\r\nConnection: close\r\n\r\n");
    CHECK(status_of(c.read_all(3s)) == 401);  // logged: event=http_unauthorized path=...
    s.stop();
  }
  spdlog::set_default_logger(previous);
  const auto log = out.str();
  CHECK(log.find("event=http_unauthorized") != std::string::npos);
  CHECK(log.find("\n2026-01-01 level=info event=forged") == std::string::npos);
  CHECK(log.find("1\\x0a2026-01-01 level=info event=forged") != std::string::npos);
}

TEST_CASE("http: a path or query that is not percent-encoded UTF-8 answers 400", "[http]") {
  server_fixture f("t");
  CHECK(testing::http_get(f.port(), "/open%ff").status == 400);
  CHECK(testing::http_get(f.port(), "/open?q=%ff").status == 400);
  CHECK(testing::http_get(f.port(), "/open%zz").status == 400);
  CHECK(testing::http_get(f.port(), "/open%4").status == 400);
  CHECK(testing::http_get(f.port(), "/op%65n").status == 200);
  CHECK(f.server.serve("GET /open%ff HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
}

TEST_CASE("http: '+' is itself in a path and a space in a query", "[http]") {
  http_server s;
  s.route("GET", "/p/", [](const http_request& r) { return http_response{200, "text/plain", r.path + "|" + r.query.at("q")}; });
  const auto res = s.serve("GET /p/a+b%2Bc?q=d+e%2Bf HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(res.status == 200);
  CHECK(res.body == "/p/a+b+c|d e+f");
}

TEST_CASE("http: the bearer scheme is case-insensitive", "[http]") {
  server_fixture f("s3cret");
  for (const char* scheme : {"bearer", "BEARER", "Bearer", "bEaReR"}) {
    raw_client c(f.port());
    c.send(std::string("POST /guarded HTTP/1.1\r\nHost: x\r\nAuthorization: ") + scheme +
           " s3cret\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
    INFO(scheme);
    CHECK(status_of(c.read_all(3s)) == 200);
  }
  raw_client c(f.port());
  c.send("POST /guarded HTTP/1.1\r\nHost: x\r\nAuthorization: Basic s3cret\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  CHECK(status_of(c.read_all(3s)) == 401);
}

TEST_CASE("http: with a Host allow-list, other Host names answer 421 (the probe paths excepted)", "[http]") {
  http_limits l;
  l.allowed_hosts = {"yuqing.example", "127.0.0.1", "::1"};
  busy_fixture f(l);
  auto with_host = [&](const std::string& path, const std::string& host) {
    raw_client c(f.port());
    c.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    return status_of(c.read_all(3s));
  };
  CHECK(with_host("/open", "yuqing.example:9464") == 200);
  CHECK(with_host("/open", "YUQING.example") == 200);
  CHECK(with_host("/open", "127.0.0.1:80") == 200);
  CHECK(with_host("/open", "[::1]:80") == 200);
  CHECK(with_host("/open", "evil.example") == 421);
  CHECK(with_host("/open", "yuqing.example.evil.example") == 421);
  CHECK(with_host("/events", "evil.example") == 421);
  CHECK(with_host("/healthz", "evil.example") == 200);
}
