#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/utf8.h"

namespace yuqing::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

int hex_value(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

// Percent-decoded `s` (in a query, '+' is a space; in a path it is itself); false when an
// escape is not two hex digits or the result is not UTF-8 ("%ff").
bool url_decode(std::string_view s, std::string& out, bool plus_is_space) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += plus_is_space && s[i] == '+' ? ' ' : s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return false;
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return common::is_valid_utf8(out);
}

// Method, path, decoded query, lower-case headers and body of a parsed request; false when
// the path or the query is not valid percent-encoded UTF-8.
bool to_request(const bhttp::request<bhttp::string_body>& r, http_request& req) {
  req.method = std::string(r.method_string());
  const std::string_view target(r.target().data(), r.target().size());
  const auto q = target.find('?');
  if (!url_decode(target.substr(0, q), req.path, false)) return false;
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    std::string name, value;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto part = rest.substr(0, amp);
      const auto eq = part.find('=');
      if (!url_decode(part.substr(0, eq), name, true) ||
          !url_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1), value, true))
        return false;
      req.query[name] = value;
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  for (const auto& f : r) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(f.value());
  }
  req.body = r.body();
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// The token of an Authorization header "Bearer TOKEN" (the scheme in any case, RFC 9110
// 11.1); empty when it is not one.
std::string_view bearer_token(std::string_view v) {
  if (v.size() < 7 || !iequals(v.substr(0, 6), "bearer") || v[6] != ' ') return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

// The host name of a Host header: without the port, brackets of an IPv6 address kept off.
std::string_view host_name(std::string_view h) {
  if (!h.empty() && h.front() == '[') return h.substr(1, h.find(']') - 1);
  const auto colon = h.find(':');
  return colon == std::string_view::npos || h.find(':', colon + 1) != std::string_view::npos
             ? h : h.substr(0, colon);
}

// A route's path: exact, a prefix (ending in '/'), or with one '*' standing for one segment.
bool route_matches(const std::string& pattern, const std::string& path) {
  const auto star = pattern.find('*');
  if (star == std::string::npos) {
    const bool prefix = pattern.size() > 1 && pattern.back() == '/';  // "/" itself is exact
    return prefix ? path.rfind(pattern, 0) == 0 : path == pattern;
  }
  const std::string_view pre(pattern.data(), star), post(pattern.data() + star + 1, pattern.size() - star - 1);
  if (path.size() <= pre.size() + post.size() || !path.starts_with(pre) || !path.ends_with(post)) return false;
  return std::string_view(path).substr(pre.size(), path.size() - pre.size() - post.size()).find('/') == std::string_view::npos;
}

const char* role_of(http_server::access a) {
  switch (a) {
    case http_server::access::open: return "viewer";
    case http_server::access::viewer: return "viewer";
    case http_server::access::officer: return "officer";
    case http_server::access::analyst: return "analyst";
    case http_server::access::admin: return "admin";
  }
  return "admin";
}

// admin may do everything; officer and analyst their own part; viewer reading only.
bool allowed(const std::string& role, http_server::access needs) {
  return role == "admin" || needs == http_server::access::viewer || role == role_of(needs);
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string log_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

http_response json_error(int status, const std::string& message) {
  return {status, "application/json", nlohmann::json{{"error", message}}.dump(), false};
}

// The subscribers of one event stream. Their sockets are only touched on the server thread:
// publish() posts there.
class sse_hub final : public event_stream, public std::enable_shared_from_this<sse_hub> {
 public:
  struct subscriber {
    std::function<void(const std::string&)> send;  // runs on the server thread
  };
  sse_hub(asio::io_context& io, std::function<std::string()> snapshot)
      : io_(io), snapshot_(std::move(snapshot)),
        epoch_(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count()) + "-") {}
  void publish(const std::string& event, const std::string& data) override {
    std::lock_guard lock(mu_);
    const uint64_t id = ++last_id_;
    std::string frame = frame_of(id, event, data);
    recent_.emplace_back(id, frame);
    if (recent_.size() > 1000) recent_.pop_front();
    post_locked(frame);
  }
  void broadcast(const std::string& frame) {
    std::lock_guard lock(mu_);
    post_locked(frame);
  }
  size_t clients() const override {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& w : subs_) n += !w.expired();
    return n;
  }
  // Subscribes s; returns what it gets first: the events after last_event_id, or a snapshot.
  // Under the lock that publish() takes, so that nothing falls between the two.
  std::string add(const std::shared_ptr<subscriber>& s, const std::string& last_event_id) {
    std::lock_guard lock(mu_);
    subs_.push_back(s);
    std::string first;
    if (uint64_t after = 0; resumable(last_event_id, after)) {
      for (const auto& [id, frame] : recent_)
        if (id > after) first += frame;
    } else if (snapshot_) {
      first = frame_of(last_id_, "snapshot", snapshot_());
    }
    return first;
  }

 private:
  std::string frame_of(uint64_t id, const std::string& event, const std::string& data) const {
    std::string frame = "id: " + epoch_ + std::to_string(id) + "\nevent: " + event + "\n";
    for (size_t at = 0; at <= data.size();) {  // one data: line per line of data
      const size_t nl = std::min(data.find('\n', at), data.size());
      frame += "data: " + data.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
    return frame + "\n";
  }
  // An id of this process whose successors are all still kept.
  bool resumable(const std::string& last_event_id, uint64_t& after) const {
    if (last_event_id.rfind(epoch_, 0) != 0) return false;
    try {
      after = std::stoull(last_event_id.substr(epoch_.size()));
    } catch (const std::exception&) {
      return false;
    }
    const uint64_t oldest = recent_.empty() ? last_id_ + 1 : recent_.front().first;
    return after <= last_id_ && after + 1 >= oldest;
  }
  void post_locked(const std::string& frame) {
    for (auto it = subs_.begin(); it != subs_.end();) {
      if (auto s = it->lock()) {
        asio::post(io_, [s, frame] { s->send(frame); });
        ++it;
      } else {
        it = subs_.erase(it);
      }
    }
  }

  asio::io_context& io_;
  const std::function<std::string()> snapshot_;
  const std::string epoch_;
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<subscriber>> subs_;
  uint64_t last_id_ = 0;
  std::deque<std::pair<uint64_t, std::string>> recent_;  // the last 1000 events
};

struct http_server::impl {
  std::map<std::string, std::shared_ptr<sse_hub>> streams;
  std::map<std::string, access> stream_access;  // streams that need a token
  std::unique_ptr<asio::steady_timer> heartbeat;
  void beat() {
    heartbeat->expires_after(std::chrono::seconds(15));
    heartbeat->async_wait([this](beast::error_code ec) {
      if (ec) return;
      for (auto& [path, hub] : streams) hub->broadcast(": keep-alive\n\n");
      beat();
    });
  }
  struct route_entry {
    std::string method, path;
    http_handler handler;
    access needs;
  };
  std::vector<route_entry> routes;
  std::string token;
  http_limits limits;
  // Open connections by pool and by client address (server thread only; declared before
  // `io`, whose destruction may end sessions).
  enum class pool { api, reserved, stream };
  int connections = 0, reserved = 0, streams_open = 0;
  std::map<std::string, int> clients;
  // What the limits turned away, by reason (read by counters() from any thread).
  std::atomic<uint64_t> refused_full{0}, refused_streams{0};
  std::atomic<int> open_now{0};  // connections of every pool (read by open_connections())
  asio::io_context io{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  uint16_t bound_port = 0;

  std::vector<http_credential> people;

  // Whose token this is: the shared http.token is an admin without a name.
  const http_credential* authenticate(std::string_view presented) const {
    static const http_credential shared{"", "", "admin", ""};
    if (!token.empty() && constant_time_equal(presented, token)) return &shared;
    if (people.empty()) return nullptr;
    const std::string digest = sha256_hex(presented);
    const http_credential* found = nullptr;
    for (const auto& p : people)  // every one compared, in constant time
      if (constant_time_equal(digest, p.token_sha256)) found = &p;
    return found;
  }

  int& count_of(pool p) { return p == pool::api ? connections : p == pool::reserved ? reserved : streams_open; }
  void release(pool p, const std::string& client) {
    --count_of(p);
    --open_now;
    if (auto it = clients.find(client); it != clients.end() && --it->second <= 0) clients.erase(it);
  }
  bool is_priority(const std::string& path) const {
    return std::find(limits.priority_paths.begin(), limits.priority_paths.end(), path) !=
           limits.priority_paths.end();
  }
  bool host_allowed(const http_request& req) const {
    if (limits.allowed_hosts.empty() || is_priority(req.path)) return true;
    const auto h = req.headers.find("host");
    const std::string_view name = h == req.headers.end() ? "" : host_name(h->second);
    return std::any_of(limits.allowed_hosts.begin(), limits.allowed_hosts.end(),
                       [&](const std::string& a) { return iequals(a, name); });
  }

  // The handler's response; a handler that throws answers 500.
  http_response handle(const http_request& req) {
    if (!host_allowed(req)) return json_error(421, "this Host is not served (http.allowed_hosts)");
    try {
      return dispatch(req);
    } catch (const std::exception& e) {
      spdlog::error("event=http_handler_failed path=\"{}\" error=\"{}\"", log_safe(req.path),
                    log_safe(e.what()));
      return json_error(500, "internal error");
    }
  }

  // Fills in who `req` comes from when its token may use a route that needs `needs`; the
  // refusal otherwise (401 no or unknown token, 403 role, or no tokens configured).
  std::optional<http_response> authorize(http_request& req, access needs) {
    if (token.empty() && people.empty()) {
      if (needs == access::viewer) return std::nullopt;  // no tokens: reading is open
      return json_error(403, "this endpoint is disabled: set http.token or http.people in the configuration");
    }
    const auto h = req.headers.find("authorization");
    const auto given = bearer_token(h == req.headers.end() ? "" : std::string_view(h->second));
    const http_credential* who = given.empty() ? nullptr : authenticate(given);
    if (!who) {
      spdlog::warn("event=http_unauthorized method={} path=\"{}\" remote={} reason={}",
                   log_safe(req.method), log_safe(req.path), req.remote,
                   h == req.headers.end() ? "no_token" : "wrong_token");
      auto res = json_error(401, "a bearer token is required (Authorization: Bearer TOKEN)");
      res.www_authenticate = true;
      return res;
    }
    if (!allowed(who->role, needs)) {
      spdlog::warn("event=http_forbidden method={} path={} remote={} person=\"{}\" role={}", req.method,
                   req.path, req.remote, who->name, who->role);
      return json_error(403, "the role " + who->role + " may not do this (it needs " + role_of(needs) + ")");
    }
    req.person = who->name;
    req.unit = who->unit;
    req.role = who->role;
    return std::nullopt;
  }

  http_response dispatch(const http_request& req) {
    bool path_known = false;
    for (const auto& r : routes) {
      if (!route_matches(r.path, req.path)) continue;
      path_known = true;
      if (r.method != req.method) continue;
      if (r.needs != access::open) {
        http_request as = req;
        if (auto denied = authorize(as, r.needs)) return *denied;
        return r.handler(as);
      }
      return r.handler(req);
    }
    return path_known ? json_error(405, "method not allowed") : json_error(404, "not found");
  }

  class session : public std::enable_shared_from_this<session> {
   public:
    session(impl& server, tcp::socket socket, pool p, std::string client)
        : server_(server), stream_(std::move(socket)), pool_(p), client_(std::move(client)) {}
    ~session() { server_.release(pool_, client_); }
    void start() { read(); }

   private:
    // The request line and headers within their deadline, then the rest within the
    // request's.
    void read() {
      parser_.emplace();
      parser_->body_limit(server_.limits.max_body_bytes);
      parser_->header_limit(static_cast<uint32_t>(server_.limits.max_header_bytes));
      const auto& l = server_.limits;
      const auto now = std::chrono::steady_clock::now();
      deadline_ = now + std::chrono::milliseconds(l.request_timeout_ms);
      stream_.expires_at(std::min(deadline_, now + std::chrono::milliseconds(l.header_timeout_ms)));
      bhttp::async_read_header(stream_, buffer_, *parser_,
                               [self = shared_from_this()](beast::error_code ec, size_t) {
                                 if (ec) return self->on_read(ec);
                                 self->stream_.expires_at(self->deadline_);
                                 bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                                                   [self](beast::error_code ec, size_t) {
                                                     self->on_read(ec);
                                                   });
                               });
    }

    void on_read(beast::error_code ec) {
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return close();
      if (ec == bhttp::error::body_limit) return reply_error(413, "request body too large");
      if (ec == bhttp::error::header_limit) return reply_error(431, "request headers too large");
      if (ec) return close();
      const auto& r = parser_->get();
      http_request req;
      if (!to_request(r, req)) return reply_error(400, "the path or query is not valid percent-encoded UTF-8");
      // Past the cap, only the priority paths are served (one request a connection).
      if (pool_ == pool::reserved && !server_.is_priority(req.path))
        return reply_error(503, "too many connections: try again later");
      beast::error_code rec;
      const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(rec);
      if (!rec) req.remote = ep.address().to_string() + ":" + std::to_string(ep.port());
      if (req.method == "GET" && server_.host_allowed(req)) {
        if (auto hub = server_.streams.find(req.path); hub != server_.streams.end()) {
          if (auto needs = server_.stream_access.find(req.path); needs != server_.stream_access.end())
            if (auto denied = server_.authorize(req, needs->second)) return write(*denied, false);
          const auto last = req.headers.find("last-event-id");
          return start_stream(hub->second, last == req.headers.end() ? "" : last->second);
        }
      }
      write(server_.handle(req), r.keep_alive() && pool_ == pool::api);
    }

    void reply_error(int status, const std::string& message) {
      write(json_error(status, message), false);
    }

    void write(const http_response& res, bool keep_alive) {
      auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
      msg->version(11);
      msg->result(static_cast<unsigned>(res.status));
      msg->set(bhttp::field::server, "yuqing");
      msg->set(bhttp::field::content_type, res.content_type);
      if (res.www_authenticate) msg->set(bhttp::field::www_authenticate, "Bearer realm=\"yuqing\"");
      msg->set("X-Content-Type-Options", "nosniff");
      for (const auto& [name, value] : res.headers) msg->set(name, value);
      msg->keep_alive(keep_alive);
      msg->body() = res.body;
      msg->prepare_payload();
      // The answer has its own deadline: the request's (which the handler's time used up
      // in part) cut large answers, such as 10,000 alerts, in the middle.
      stream_.expires_after(std::chrono::milliseconds(server_.limits.stream_write_timeout_ms));
      bhttp::async_write(stream_, *msg,
                         [self = shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
                           if (ec || !keep_alive) return self->close();
                           self->read();
                         });
    }

    void close() {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    // From here on the connection carries the event stream until the client goes.
    void start_stream(const std::shared_ptr<sse_hub>& hub, const std::string& last_event_id) {
      if (pool_ != pool::api || server_.streams_open >= server_.limits.max_event_streams) {
        ++server_.refused_streams;
        return reply_error(503, "too many event-stream subscribers: try again later");
      }
      // Its own pool from here on: subscribers do not take the API's connections.
      --server_.count_of(pool_);
      pool_ = pool::stream;
      ++server_.count_of(pool_);
      stream_.expires_never();
      sub_ = std::make_shared<sse_hub::subscriber>();
      std::weak_ptr<session> weak = shared_from_this();
      sub_->send = [weak](const std::string& frame) {
        if (auto self = weak.lock()) self->enqueue(frame);
      };
      const std::string first = hub->add(sub_, last_event_id);
      enqueue("HTTP/1.1 200 OK\r\nServer: yuqing\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
              "Cache-Control: no-cache\r\nConnection: close\r\n\r\n: connected\n\n" + first);
      // Reading tells when the client goes away.
      stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](
                                                              beast::error_code, size_t) {
        self->sub_.reset();
        self->queue_.clear();
        beast::error_code ec;
        self->stream_.socket().close(ec);
      });
    }
    void enqueue(const std::string& frame) {
      if (!sub_) return;
      if (queue_.size() >= 1000) {  // not reading: drop the client
        sub_.reset();
        beast::error_code ec;
        stream_.socket().close(ec);
        return;
      }
      queue_.push_back(frame);
      if (queue_.size() == 1) write_next();
    }
    void write_next() {
      // A subscriber that takes nothing for this long is dropped (the socket closes).
      stream_.expires_after(std::chrono::milliseconds(server_.limits.stream_write_timeout_ms));
      asio::async_write(stream_, asio::buffer(queue_.front()),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec || self->queue_.empty()) {
                            self->sub_.reset();
                            self->queue_.clear();
                            return;
                          }
                          self->queue_.pop_front();
                          if (!self->queue_.empty()) self->write_next();
                          else self->stream_.expires_never();  // idle: no deadline pending
                        });
    }
    std::shared_ptr<sse_hub::subscriber> sub_;
    std::deque<std::string> queue_;
    char sink_[256];

    impl& server_;
    beast::tcp_stream stream_;
    pool pool_;
    std::string client_;  // address, for the per-client count
    std::chrono::steady_clock::time_point deadline_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  };

  void accept() {
    acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
      } else {
        admit(std::move(socket));
      }
      accept();
    });
  }

  // A session in the API pool while both the API and its client are under their caps,
  // else in the reserved one (priority paths only: a health check behind the same proxy
  // address as a flood still gets through), else closed at once.
  void admit(tcp::socket socket) {
    beast::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    std::string client = ec ? "" : ep.address().to_string();
    const bool client_full = clients[client] >= limits.max_connections_per_client;
    const std::optional<pool> p = !client_full && connections < limits.max_connections ? std::optional(pool::api)
                                  : reserved < limits.reserved_connections ? std::optional(pool::reserved)
                                                                           : std::nullopt;
    if (!p) {
      if (clients[client] == 0) clients.erase(client);
      ++refused_full;
      socket.close(ec);
      return;
    }
    ++count_of(*p);
    ++open_now;
    ++clients[client];
    std::make_shared<session>(*this, std::move(socket), *p, std::move(client))->start();
  }
};

http_server::http_server() : impl_(std::make_unique<impl>()) {}
http_server::~http_server() { stop(); }

void http_server::route(const std::string& method, const std::string& path, http_handler h,
                        access a) {
  impl_->routes.push_back({method, path, std::move(h), a});
}

void http_server::set_token(std::string token) { impl_->token = std::move(token); }

http_server::refusals http_server::refused() const {
  return {impl_->refused_full.load(), impl_->refused_streams.load()};
}

int http_server::open_connections() const { return impl_->open_now.load(); }

void http_server::set_people(std::vector<http_credential> people) { impl_->people = std::move(people); }

std::shared_ptr<event_stream> http_server::add_event_stream(const std::string& path,
                                                           std::function<std::string()> snapshot,
                                                           access a) {
  auto hub = std::make_shared<sse_hub>(impl_->io, std::move(snapshot));
  impl_->streams[path] = hub;
  if (a != access::open) impl_->stream_access[path] = a;
  return hub;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

void http_server::set_limits(const http_limits& l) { impl_->limits = l; }

status http_server::start(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return error{"http.listen: expected HOST:PORT, is " + listen};
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) return error{"http.listen: bad address " + host};
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return error{"http.listen: bad port in " + listen};
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error{"http: cannot listen on " + listen + ": " + ec.message()};
  impl_->bound_port = acc->local_endpoint().port();
  impl_->acceptor = std::move(acc);
  impl_->accept();
  impl_->heartbeat = std::make_unique<asio::steady_timer>(impl_->io);
  impl_->beat();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return ok_status();
}

uint16_t http_server::port() const { return impl_->bound_port; }

void http_server::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  });
  impl_->io.stop();
  impl_->thread.join();
  // The I/O objects go before the io_context they were made with (declared after them:
  // ASan found the heartbeat timer destroyed after its timer service).
  impl_->heartbeat.reset();
  impl_->acceptor.reset();
}

http_response http_server::serve(std::string_view raw) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(impl_->limits.max_body_bytes);
  parser.header_limit(static_cast<uint32_t>(impl_->limits.max_header_bytes));
  parser.eager(true);
  beast::error_code ec;
  size_t used = 0;
  while (used < raw.size() && !parser.is_done()) {
    const size_t n = parser.put(asio::buffer(raw.data() + used, raw.size() - used), ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) break;
    if (n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done()) {
    parser.put_eof(ec);
  }
  if (ec == bhttp::error::body_limit) return json_error(413, "request body too large");
  if (ec == bhttp::error::header_limit) return json_error(431, "request headers too large");
  if ((ec && ec != bhttp::error::need_more) || !parser.is_done()) return json_error(400, "bad request");
  http_request req;
  if (!to_request(parser.get(), req)) return json_error(400, "the path or query is not valid percent-encoded UTF-8");
  req.remote = "fuzz";
  if (req.method == "GET" && impl_->streams.count(req.path)) return json_error(400, "an event stream needs a connection");
  return impl_->handle(req);
}

}  // namespace yuqing::http
