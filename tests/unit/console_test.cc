// The console's side of the daemon: the viewer access level (reading needs a token of any
// role once tokens are configured, open without tokens), the event stream behind it,
// GET /api/v1/whoami, and the console's files (built in and from a directory) with their
// security headers, ETag revalidation and no way out of the directory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "console/files.h"
#include "daemon/routes_console.h"
#include "http/server.h"
#include "tests/support/process.h"

using namespace yuqing;
using namespace yuqing::daemon;
using namespace yuqing::http;
namespace fs = std::filesystem;

namespace {

// printf %s viewer-token | sha256sum; officer-token likewise.
const http_credential viewer{"李四", "宣传科", "viewer",
                             "d036bd6d01a1cae081d39a2f8dab751dc042de814fd60df31fcb553170950f29"};
const http_credential officer{"张三", "防控办", "officer",
                              "3e4f1189ca4e64f6981981adad73798a940b771ae89bf869c31af1d0ac2bd4c9"};

std::string get(const std::string& path, const std::string& token = "", const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" +
         (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + extra + "Connection: close\r\n\r\n";
}

std::string header(const http_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

void add_reading_routes(http_server& s) {
  s.route("GET", "/api/v1/alerts", [](const http_request& r) {
    return http_response{200, "text/plain", r.person.empty() ? "anyone" : r.person};
  }, http_server::access::viewer);
  s.route("POST", "/api/v1/alerts/", [](const http_request&) { return http_response{}; },
          http_server::access::officer);
}

}  // namespace

TEST_CASE("viewer routes need a token of any role once tokens are configured", "[http][console]") {
  http_server s;
  s.set_token("shared");
  s.set_people({viewer, officer});
  add_reading_routes(s);
  add_console_routes(s, "", true);
  CHECK(s.serve(get("/api/v1/alerts")).status == 401);
  CHECK(s.serve(get("/api/v1/alerts", "wrong")).status == 401);
  CHECK(s.serve(get("/api/v1/alerts", "viewer-token")).body == "李四");
  CHECK(s.serve(get("/api/v1/alerts", "officer-token")).body == "张三");
  CHECK(s.serve(get("/api/v1/alerts", "shared")).status == 200);
  // A viewer reads but may not acknowledge.
  CHECK(s.serve("POST /api/v1/alerts/x/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer viewer-token\r\n"
                "Content-Length: 0\r\n\r\n").status == 403);
  const auto me = s.serve(get("/api/v1/whoami", "officer-token"));
  CHECK(me.status == 200);
  CHECK(me.body.find("\"role\":\"officer\"") != std::string::npos);
  CHECK(me.body.find("\"tokens\":true") != std::string::npos);
  CHECK(s.serve(get("/api/v1/whoami")).status == 401);
  // The console's files hold no data: open.
  CHECK(s.serve(get("/")).status == 200);
}

TEST_CASE("without tokens, viewer routes are open and whoami says so", "[http][console]") {
  http_server s;
  add_reading_routes(s);
  add_console_routes(s, "", false);
  CHECK(s.serve(get("/api/v1/alerts")).body == "anyone");
  CHECK(s.serve("POST /api/v1/alerts/x/ack HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status == 403);
  const auto me = s.serve(get("/api/v1/whoami"));
  CHECK(me.body.find("\"tokens\":false") != std::string::npos);
  CHECK(me.body.find("\"role\":\"viewer\"") != std::string::npos);
}

TEST_CASE("the event stream behind a viewer level refuses a subscriber without a token", "[http][console]") {
  http_server s;
  s.set_people({viewer});
  s.add_event_stream("/stream", [] { return std::string("{}"); }, http_server::access::viewer);
  REQUIRE(s.start("127.0.0.1:0"));
  CHECK(testing::http_get(s.port(), "/stream").status == 401);
  const auto [rc, out] = testing::shell("curl -s --max-time 2 -H 'Authorization: Bearer viewer-token' http://127.0.0.1:" +
                                        std::to_string(s.port()) + "/stream");
  CHECK(out.find("event: snapshot") != std::string::npos);
  s.stop();
}

TEST_CASE("the console's built-in files: index at /, modules by type, CSP without inline, ETag", "[http][console]") {
  REQUIRE(!console::files().empty());
  http_server s;
  add_console_routes(s, "", false);
  const auto index = s.serve(get("/"));
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.body.find("<script type=\"module\" src=\"/console/js/main.js\">") != std::string::npos);
  const auto csp = header(index, "Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("style-src 'self'") != std::string::npos);
  CHECK(header(index, "Cache-Control") == "no-cache");
  const auto js = s.serve(get("/console/js/api.js"));
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  const auto again = s.serve(get("/console/js/api.js", "", "If-None-Match: " + header(js, "ETag") + "\r\n"));
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(s.serve(get("/console/nothing.js")).status == 404);
  CHECK(s.serve(get("/console/README.md")).status == 404);
}

TEST_CASE("the console from a directory (development): read at each request, nothing outside it", "[http][console]") {
  const fs::path dir = fs::temp_directory_path() / ("yuqing-console-" + std::to_string(::getpid()));
  fs::create_directories(dir / "js");
  std::ofstream(dir / "index.html") << "<p>one</p>";
  std::ofstream(dir / "js" / "a.js") << "export const a = 1;";
  std::ofstream(dir / ".hidden.js") << "secret";
  std::ofstream(dir / "notes.txt") << "not served";
  http_server s;
  add_console_routes(s, dir, false);
  CHECK(s.serve(get("/")).body == "<p>one</p>");
  std::ofstream(dir / "index.html") << "<p>two</p>";
  CHECK(s.serve(get("/")).body == "<p>two</p>");
  CHECK(s.serve(get("/console/js/a.js")).status == 200);
  for (const char* bad : {"/console/../index.html", "/console/js/../../etc/passwd", "/console/.hidden.js",
                          "/console/notes.txt", "/console//js/a.js", "/console/js/", "/console/%2e%2e/index.html"})
    CHECK(s.serve(get(bad)).status == 404);
  fs::remove_all(dir);
}
