#include "http/client.h"

#include <cctype>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace yuqing::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

result<http_reply> http_request_once(const http_call& call) {
  std::string address = call.address;
  if (address.rfind("http://", 0) == 0) address = address.substr(7);
  while (!address.empty() && address.back() == '/') address.pop_back();
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return error{"address '" + address + "': expected HOST:PORT"};
  const std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(call.timeout);
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
    req.set(bhttp::field::host, host);
    if (!call.bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + call.bearer);
    if (!call.body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = call.body;
    }
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 << 20);
    bhttp::read(stream, buf, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return http_reply{static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return error{"http://" + address + call.target + ": " + e.what()};
  }
}

result<http_url> parse_http_url(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return error{"url '" + url + "': only http:// (put TLS in a proxy)"};
  std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  http_url u;
  u.address = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (u.address.empty()) return error{"url '" + url + "': no host"};
  if (u.address.find(':') == std::string::npos) u.address += ":80";
  return u;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace yuqing::http
