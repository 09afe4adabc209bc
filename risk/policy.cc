#include "risk/policy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "matchers/normalizer.h"
#include "risk/risk.h"
#include "risk/text.h"

namespace yuqing::risk {

namespace {

constexpr int64_t day_ms = int64_t{24} * 3600 * 1000;

bool digits(const std::string& s, size_t at, size_t n) {
  if (s.size() < at + n) return false;
  for (size_t i = at; i < at + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int num(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }

// The first `chars` characters of `text`.
std::string excerpt(const std::string& text, size_t chars) {
  size_t i = 0;
  for (size_t n = 0; i < text.size() && n < chars; ++n) i = detail::next_char(text, i);
  return text.substr(0, i) + (i < text.size() ? "…" : "");
}

}  // namespace

std::optional<int64_t> parse_time(const std::string& s, int off) {
  if (!digits(s, 0, 4) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = num(s, 0, 4) - 1900, tm.tm_mon = num(s, 5, 2) - 1, tm.tm_mday = num(s, 8, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return std::nullopt;
  int64_t zone = off;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2))
      return std::nullopt;
    tm.tm_hour = num(s, 11, 2), tm.tm_min = num(s, 14, 2);
    size_t at = 16;
    if (s.size() > at && s[at] == ':') {
      if (!digits(s, at + 1, 2)) return std::nullopt;
      tm.tm_sec = num(s, at + 1, 2);
      at += 3;
    }
    const std::string z = s.substr(at);
    if (z == "Z") zone = 0;
    else if (z.size() == 6 && (z[0] == '+' || z[0] == '-') && digits(z, 1, 2) && z[3] == ':' && digits(z, 4, 2))
      zone = (z[0] == '-' ? -1 : 1) * (num(z, 1, 2) * 60 + num(z, 4, 2));
    else if (!z.empty()) return std::nullopt;
    if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) return std::nullopt;
  }
  return (static_cast<int64_t>(timegm(&tm)) - zone * 60) * 1000;
}

std::string policy::to_json(int off) const {
  return nlohmann::json{{"id", id}, {"name", name}, {"published", local_time(published_ms, off)},
                        {"published_ms", published_ms}, {"keywords", keywords}, {"unit", unit}, {"origin", origin}}
      .dump();
}

result<policy> policy::from_json(const std::string& text, int off) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error{"body: expected a JSON object {id, name, published, keywords, unit}"};
  policy p;
  p.origin = "api";
  for (const auto& [k, v] : j.items()) {
    if (k == "keywords") {
      if (!v.is_array() || v.empty() || v.size() > 100) return error{"keywords: expected 1 to 100 strings"};
      for (const auto& w : v) {
        if (!w.is_string() || w.get<std::string>().empty() || w.get<std::string>().size() > 100)
          return error{"keywords: each is a non-empty string of at most 100 bytes"};
        p.keywords.push_back(w.get<std::string>());
      }
    } else if (k == "id" || k == "name" || k == "published" || k == "unit") {
      if (!v.is_string()) return error{k + ": expected a string"};
      const auto s = v.get<std::string>();
      if (k == "id") p.id = s;
      else if (k == "name") p.name = s;
      else if (k == "unit") p.unit = s;
      else if (auto t = parse_time(s, off)) p.published_ms = *t;
      else return error{"published: expected YYYY-MM-DD or RFC 3339"};
    } else {
      return error{k + ": unknown field (id, name, published, keywords, unit)"};
    }
  }
  const bool id_ok = !p.id.empty() && p.id.size() <= 64 &&
                     std::all_of(p.id.begin(), p.id.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                     });
  if (!id_ok) return error{"id: expected 1 to 64 of [a-z0-9_-]"};
  if (p.name.empty() || p.name.size() > 200) return error{"name: expected 1 to 200 bytes"};
  if (!j.contains("published")) return error{"published: missing"};
  if (p.keywords.empty()) return error{"keywords: missing"};
  return p;
}

std::string policy_curve::to_json(int off) const {
  nlohmann::json d = nlohmann::json::array(), c = nlohmann::json::array();
  for (const auto& x : days)
    d.push_back({{"day", local_time(x.day_ms, off).substr(0, 10)}, {"messages", x.messages}, {"negative", x.negative},
                 {"neutral", x.neutral}, {"positive", x.positive}, {"tendency_unknown", x.unknown}});
  for (const auto& x : clusters)
    c.push_back({{"representative", x.representative}, {"first_key", x.first_key}, {"size", x.size},
                 {"negative", x.negative}});
  return nlohmann::json{{"policy", nlohmann::json::parse(p.to_json(off))},
                        {"until", local_time(until_ms, off)},
                        {"messages", messages}, {"negative", negative}, {"neutral", neutral}, {"positive", positive},
                        {"tendency_unknown", unknown}, {"before_retention", before_retention},
                        {"days", d}, {"clusters", c}}
      .dump();
}

namespace {

bool mentions(const std::string& folded_text, const std::vector<std::string>& folded_keywords) {
  for (const auto& k : folded_keywords)
    if (folded_text.find(k) != std::string::npos) return true;
  return false;
}

void count_tendency(tendency t, uint64_t& neg, uint64_t& neu, uint64_t& pos, uint64_t& unk) {
  (t == tendency::negative ? neg : t == tendency::neutral ? neu : t == tendency::positive ? pos : unk) += 1;
}

}  // namespace

result<policy_curve> follow(const storage::store& store, const policy& p, const lexicon* lex, int64_t until_ms,
                            int off, const cluster_fn& cluster, size_t top, int64_t retention_ms) {
  policy_curve c;
  c.p = p, c.until_ms = until_ms;
  c.before_retention = retention_ms > 0 && p.published_ms < until_ms - retention_ms;
  std::vector<std::string> keywords;
  for (const auto& k : p.keywords) keywords.push_back(fold(k));
  const int64_t offset_ms = int64_t{off} * 60000;
  auto day_of = [&](int64_t t) {
    const int64_t local = t + offset_ms;
    return (local / day_ms - (local % day_ms < 0)) * day_ms - offset_ms;
  };
  std::map<int64_t, policy_day> days;
  for (int64_t d = day_of(p.published_ms); d < until_ms && days.size() < 3660; d += day_ms) days[d].day_ms = d;
  struct group {
    policy_cluster c;
    int64_t first_ms = 0;
  };
  std::map<uint64_t, group> groups;
  std::string after;
  for (;;) {
    auto page = store.scan_messages(after, 1000);
    if (!page.ok()) return error{page.error_message()};
    for (const auto& m : page->messages) {
      if (m.time_ms < p.published_ms || m.time_ms >= until_ms || m.kind == "mailbox-reply") continue;
      std::string text;
      for (const auto& [field, t] : m.text) text += (text.empty() ? "" : "\n") + t;
      if (!mentions(fold(text), keywords)) continue;
      const tendency t = assess(lex, text).t;
      auto& d = days[day_of(m.time_ms)];
      d.day_ms = day_of(m.time_ms);
      ++d.messages, ++c.messages;
      count_tendency(t, d.negative, d.neutral, d.positive, d.unknown);
      count_tendency(t, c.negative, c.neutral, c.positive, c.unknown);
      if (!cluster) continue;
      auto& g = groups[cluster(m.key, text, m.time_ms)];
      ++g.c.size;
      if (t == tendency::negative) ++g.c.negative;
      if (g.c.first_key.empty() || m.time_ms < g.first_ms) {
        g.first_ms = m.time_ms, g.c.first_key = m.key, g.c.representative = excerpt(text, 80);
      }
    }
    if (page->done) break;
    after = page->last_key;
  }
  for (auto& [d, x] : days) c.days.push_back(x);
  for (auto& [id, g] : groups) c.clusters.push_back(std::move(g.c));
  std::sort(c.clusters.begin(), c.clusters.end(), [](const policy_cluster& a, const policy_cluster& b) {
    return a.size != b.size ? a.size > b.size : a.first_key < b.first_key;
  });
  if (c.clusters.size() > top) c.clusters.resize(top);
  return c;
}

policy_book::policy_book(std::filesystem::path file) : file_(std::move(file)) {}

status policy_book::load(const std::vector<policy>& from_config) {
  std::lock_guard lk(mu_);
  policies_ = from_config;
  for (auto& p : policies_) p.origin = "config";
  std::error_code ec;
  if (file_.empty() || !std::filesystem::exists(file_, ec)) return ok_status();
  std::ifstream in(file_);
  std::stringstream s;
  s << in.rdbuf();
  const auto j = nlohmann::json::parse(s.str(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return error{file_.string() + ": not a JSON array of policies"};
  for (auto x : j) {
    if (!x.is_object()) return error{file_.string() + ": not a JSON array of policies"};
    x.erase("published_ms"), x.erase("origin");  // written by save_locked(): published says the same
    auto p = policy::from_json(x.dump(), 0);
    if (!p.ok()) return error{file_.string() + ": " + p.error_message()};
    if (std::none_of(policies_.begin(), policies_.end(), [&](const policy& q) { return q.id == p->id; }))
      policies_.push_back(std::move(*p));
  }
  return ok_status();
}

status policy_book::save_locked() const {
  if (file_.empty()) return ok_status();
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : policies_)
    if (p.origin == "api") j.push_back(nlohmann::json::parse(p.to_json(0)));
  const auto tmp = file_.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return error{tmp + ": cannot be written"};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec) return error{file_.string() + ": " + ec.message()};
  return ok_status();
}

status policy_book::register_policy(policy p) {
  std::lock_guard lk(mu_);
  p.origin = "api";
  auto it = std::find_if(policies_.begin(), policies_.end(), [&](const policy& q) { return q.id == p.id; });
  if (it != policies_.end() && it->origin == "config") return error{"id: " + p.id + " is a policy of the configuration"};
  if (it != policies_.end()) *it = std::move(p);
  else policies_.push_back(std::move(p));
  return save_locked();
}

status policy_book::remove(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(policies_.begin(), policies_.end(), [&](const policy& q) { return q.id == id; });
  if (it == policies_.end()) return error{"id: no policy " + id};
  if (it->origin == "config") return error{"id: " + id + " is a policy of the configuration"};
  policies_.erase(it);
  return save_locked();
}

std::vector<policy> policy_book::list() const {
  std::lock_guard lk(mu_);
  return policies_;
}

std::optional<policy> policy_book::get(const std::string& id) const {
  std::lock_guard lk(mu_);
  for (const auto& p : policies_)
    if (p.id == id) return p;
  return std::nullopt;
}

}  // namespace yuqing::risk
