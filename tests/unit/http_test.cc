// The HTTP surface refuses what it must, over real sockets: POST routes without the bearer
// token (401, and 403 while no token is configured), oversized bodies (413) and headers
// (431), clients too slow to send a request (closed after the deadline), connections past
// the cap (closed at once), and it binds 127.0.0.1 unless told otherwise.
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
#include "daemon/http_server.h"
#include "tests/support/process.h"

using namespace yuqing;
using namespace yuqing::daemon;
using namespace std::chrono_literals;

namespace {

// A raw client connection.
struct raw_client {
  int fd = -1;
  explicit raw_client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
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
  server_fixture f("t", l);
  auto a = std::make_unique<raw_client>(f.port());
  auto b = std::make_unique<raw_client>(f.port());
  std::this_thread::sleep_for(200ms);  // both accepted and idle
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
  std::this_thread::sleep_for(200ms);
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
