#include "daemon/routes_console.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "console/files.h"

namespace yuqing::daemon {

namespace {

constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// FNV-1a of the bytes, as a quoted ETag.
std::string etag_of(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char out[24];
  std::snprintf(out, sizeof out, "\"%016llx\"", static_cast<unsigned long long>(h));
  return out;
}

std::optional<std::string> type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  return std::nullopt;
}

// A relative path of plain segments ([A-Za-z0-9_-.], none starting with a dot).
bool safe_path(std::string_view p) {
  if (p.empty() || p.size() > 200) return false;
  bool segment_start = true;
  for (const char c : p) {
    if (c == '/') {
      if (segment_start) return false;  // "//" or a leading '/'
      segment_start = true;
      continue;
    }
    if (segment_start && c == '.') return false;
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
    if (!plain) return false;
    segment_start = false;
  }
  return !segment_start;
}

class console_files {
 public:
  explicit console_files(std::filesystem::path dir) : dir_(std::move(dir)) {}

  http::http_response get(const std::string& path, const http::http_request& req) const {
    std::string bytes, type;
    if (!find(path, bytes, type)) return http::json_error(404, "no console file " + path);
    http::http_response res{200, type, "", false,
                      {{"Content-Security-Policy", content_security_policy},
                       {"X-Frame-Options", "DENY"},
                       {"Referrer-Policy", "no-referrer"},
                       {"Cache-Control", "no-cache"},
                       {"ETag", etag_of(bytes)}}};
    const auto match = req.headers.find("if-none-match");
    if (match != req.headers.end() && match->second == etag_of(bytes)) res.status = 304;
    else res.body = std::move(bytes);
    return res;
  }

 private:
  bool find(const std::string& path, std::string& bytes, std::string& type) const {
    if (!safe_path(path)) return false;
    if (dir_.empty()) {
      for (const auto& f : console::files()) {
        if (f.path != path) continue;
        bytes = f.bytes;
        type = f.content_type;
        return true;
      }
      return false;
    }
    const auto t = type_of(path);
    std::error_code ec;
    if (!t || !std::filesystem::is_regular_file(dir_ / path, ec)) return false;
    std::ifstream in(dir_ / path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
    type = *t;
    return static_cast<bool>(in);
  }

  std::filesystem::path dir_;
};

}  // namespace

void add_console_routes(http::http_server& http, const std::filesystem::path& console_dir,
                        bool tokens_configured) {
  auto files = std::make_shared<console_files>(console_dir);
  http.route("GET", "/", [files](const http::http_request& r) { return files->get("index.html", r); });
  http.route("GET", "/console/", [files](const http::http_request& r) {
    return files->get(r.path.substr(std::string("/console/").size()), r);
  });
  http.route("GET", "/api/v1/whoami", [tokens_configured](const http::http_request& r) {
    const nlohmann::json j{{"tokens", tokens_configured},
                           {"name", r.person},
                           {"unit", r.unit},
                           {"role", r.role.empty() ? "viewer" : r.role}};
    return http::http_response{200, "application/json", j.dump()};
  }, http::http_server::access::viewer);
}

}  // namespace yuqing::daemon
