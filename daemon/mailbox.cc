#include "daemon/mailbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace yuqing::daemon {

namespace {

constexpr size_t excerpt_bytes = 300;
constexpr size_t max_examples = 5;
constexpr int64_t resolve_retry_ms = 10 * 60 * 1000;
constexpr size_t max_alerts_per_tick = 500;

// At most n bytes of s, cut at a UTF-8 character boundary, without NUL bytes.
std::string excerpt_of(std::string_view s, size_t n = excerpt_bytes) {
  if (s.size() > n) {
    n = std::min(n, s.size());
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
  }
  std::string out(s);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

std::string text_of(const storage::message_record& m) {
  std::string t;
  for (const auto& [field, text] : m.text) {
    if (field == "title" && !m.text.empty() && m.text.size() > 1) {
      // A title that opens its content adds nothing.
      bool repeated = false;
      for (const auto& [f2, t2] : m.text)
        if (f2 != "title" && t2.rfind(text, 0) == 0) repeated = true;
      if (repeated) continue;
    }
    t += (t.empty() ? "" : "\n") + text;
  }
  return t;
}

std::string hex8(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// The stored form of a clustering member: channel \0 excerpt \0 signature (256 bytes).
std::string encode_member(const clusterer::member& m) {
  std::string v = m.channel + std::string(1, '\0') + m.excerpt + std::string(1, '\0');
  v.append(reinterpret_cast<const char*>(m.sig.data()), sizeof(uint32_t) * m.sig.size());
  return v;
}

bool decode_member(std::string_view key, std::string_view value, clusterer::member& m) {
  const size_t sig_bytes = sizeof(uint32_t) * m.sig.size();
  if (key.size() < 10 || value.size() < sig_bytes + 2) return false;
  const auto a = value.find('\0');
  const auto b = a == std::string_view::npos ? a : value.find('\0', a + 1);
  if (b == std::string_view::npos || value.size() - b - 1 != sig_bytes) return false;
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(key[2 + i]);
  m.time_ms = static_cast<int64_t>(t);
  m.key.assign(key.substr(10));
  m.channel.assign(value.substr(0, a));
  m.excerpt.assign(value.substr(a + 1, b - a - 1));
  std::memcpy(m.sig.data(), value.data() + b + 1, sig_bytes);
  return true;
}

// Every case in the store (openings joined with replies and alert markers), plus replies
// whose message is not known, in no particular order.
status read_cases(const storage::store& store, std::vector<mailbox_case>& out,
                  const std::function<bool(const mailbox_case&)>& keep = {},
                  const std::function<void(uint64_t)>& progress = {}) {
  std::map<std::string, case_reply> replies;
  std::map<std::string, std::map<std::string, std::string>> markers;
  auto st = store.scan_mailbox(mailbox_keys::replies, {}, [&](std::string_view k, std::string_view v) {
    if (auto r = mailbox_case::decode_reply(v)) replies[std::string(k.substr(2))] = std::move(*r);
    return true;
  });
  if (!st) return st;
  st = store.scan_mailbox(mailbox_keys::alerts, {}, [&](std::string_view k, std::string_view v) {
    const auto rest = k.substr(2);
    const auto sep = rest.find('\0');
    if (sep != std::string_view::npos)
      markers[std::string(rest.substr(0, sep))][std::string(rest.substr(sep + 1))] = std::string(v);
    return true;
  });
  if (!st) return st;
  uint64_t done = 0;
  st = store.scan_mailbox(mailbox_keys::openings, {}, [&](std::string_view, std::string_view v) {
    auto c = mailbox_case::decode_opening(v);
    if (!c) return true;
    if (auto r = replies.find(c->id); r != replies.end()) {
      c->reply = std::move(r->second);
      replies.erase(r);
    }
    if (auto m = markers.find(c->id); m != markers.end()) c->alerts = m->second;
    if (!keep || keep(*c)) out.push_back(std::move(*c));
    if (progress && ++done % 500 == 0) progress(done);
    return true;
  });
  if (!st) return st;
  for (auto& [id, r] : replies) {
    mailbox_case c;
    c.id = id;
    c.reply = std::move(r);
    if (!keep || keep(c)) out.push_back(std::move(c));
  }
  return ok_status();
}

}  // namespace

result<std::vector<mailbox_case>> list_cases(const storage::store& store, const case_query& q, int64_t now_ms) {
  std::vector<mailbox_case> out;
  auto st = read_cases(store, out, [&](const mailbox_case& c) {
    const std::string state = c.opened ? c.state(now_ms) : "reply_only";
    // Replies without their message are listed only when asked for.
    if (q.state.empty() ? state == "reply_only" : state != q.state) return false;
    if (!q.unit.empty() && std::find(c.units.begin(), c.units.end(), q.unit) == c.units.end() &&
        !(c.reply && c.reply->unit == q.unit))
      return false;
    return true;
  });
  if (!st) return error{st.error_message()};
  std::sort(out.begin(), out.end(), [](const mailbox_case& a, const mailbox_case& b) {
    const int64_t ta = a.opened ? a.received_ms : a.reply->time_ms;
    const int64_t tb = b.opened ? b.received_ms : b.reply->time_ms;
    return ta != tb ? ta > tb : a.id < b.id;
  });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

result<case_report> build_report(const storage::store& store, int64_t from_ms, int64_t to_ms, int64_t at_ms,
                                 const std::function<void(uint64_t, uint64_t)>& progress) {
  uint64_t total = 0;
  if (progress) {
    auto st = store.scan_mailbox(mailbox_keys::openings, {}, [&](std::string_view, std::string_view) {
      ++total;
      return true;
    });
    if (!st) return error{st.error_message()};
  }
  case_report r;
  r.from_ms = from_ms;
  r.to_ms = to_ms;
  r.at_ms = at_ms;
  std::vector<mailbox_case> cases;
  auto st = read_cases(
      store, cases,
      [&](const mailbox_case& c) {
        if (!c.opened) {
          ++r.unmatched_replies;
          return false;
        }
        return c.received_ms >= from_ms && c.received_ms < to_ms;
      },
      [&](uint64_t done) {
        if (progress) progress(done, total);
      });
  if (!st) return error{st.error_message()};
  for (const auto& c : cases) r.add(c);
  // Concentrated issues found in the period (by when they were first raised).
  std::map<std::string, concentrated_issue> issues;
  st = store.scan_mailbox(mailbox_keys::issues, {}, [&](std::string_view, std::string_view v) {
    auto i = concentrated_issue::from_json(v);
    if (i && i->last_ms >= from_ms && i->first_ms < to_ms) issues[i->fingerprint] = std::move(*i);
    return true;
  });
  if (!st) return error{st.error_message()};
  for (auto& [fp, i] : issues) r.issues.push_back(std::move(i));
  std::sort(r.issues.begin(), r.issues.end(),
            [](const auto& a, const auto& b) { return a.count != b.count ? a.count > b.count : a.fingerprint < b.fingerprint; });
  if (r.issues.size() > 20) r.issues.resize(20);
  if (progress) progress(total, total);
  return r;
}

mailbox::mailbox(const config::daemon_config& cfg, storage::store& store, calendar cal,
                 std::shared_ptr<const config::plan> plan, mailbox_probe& probe, const clock& clk)
    : cfg_(cfg), store_(store), calendar_(std::move(cal)), plan_(std::move(plan)), probe_(probe), clk_(clk),
      clusters_(cluster_options{cfg.clusters_similarity_percent / 100.0,
                                int64_t{cfg.clusters_window_hours} * 3600000,
                                static_cast<size_t>(cfg.clusters_max_tracked)}) {
  for (const auto& [category, text] : cfg.mailbox_deadlines)
    if (auto r = parse_deadline_rule(text)) deadlines_.by_category[category] = *r;
  if (auto r = parse_deadline_rule(cfg.mailbox_default_deadline)) deadlines_.otherwise = *r;
  if (cfg.clusters_scope != "none") clusters_.reserve();  // size the tables once, not by rehashing
}

mailbox::~mailbox() { stop(); }

std::vector<std::string> mailbox::units_of(const std::vector<int>& plan_items) const {
  std::vector<std::string> units;
  if (!plan_) return units;
  for (int n : plan_items)
    if (const auto* item = plan_->item(n))
      for (const auto& u : item->lead_units) add_unique(units, u);
  if (units.empty())
    if (const auto* item = plan_->item(11))  // the governor's-mailbox item of the plan
      units = item->lead_units;
  return units;
}

status mailbox::start(case_alert_sink sink) {
  sink_ = std::move(sink);
  std::vector<mailbox_case> all;
  if (auto st = read_cases(store_, all); !st) return st;
  std::vector<clusterer::member> members;
  auto st = store_.scan_mailbox(mailbox_keys::members, {}, [&](std::string_view k, std::string_view v) {
    clusterer::member m;
    if (decode_member(k, v, m)) members.push_back(std::move(m));
    return true;
  });
  if (!st) return st;
  std::vector<concentrated_issue> active;
  st = store_.scan_mailbox(mailbox_keys::issues, {}, [&](std::string_view, std::string_view v) {
    auto j = concentrated_issue::from_json(v);
    if (j && j->active) active.push_back(std::move(*j));
    return true;
  });
  if (!st) return st;
  {
    std::lock_guard lock(mu_);
    for (auto& c : all) {
      if (!c.opened) {
        early_replies_[c.id] = *c.reply;
        continue;
      }
      latest_ms_ = std::max(latest_ms_, c.received_ms);
      if (c.reply) ++closed_;
      recent_.push_back({c.received_ms, c.category.empty() ? "(none)" : c.category, c.topics, c.message_key,
                         c.excerpt});
      if (!c.reply) waiting_[c.id] = std::move(c);
    }
    std::sort(recent_.begin(), recent_.end(), [](const counted& a, const counted& b) { return a.time_ms < b.time_ms; });
    const int64_t keep = 2 * int64_t{cfg_.concentrated_period_hours} * 3600000;
    while (!recent_.empty() && recent_.front().time_ms <= latest_ms_ - keep) recent_.pop_front();
    for (auto& m : members) {
      latest_member_ms_ = std::max(latest_member_ms_, m.time_ms);
      clusters_.add(std::move(m));
    }
    clusters_.expire(latest_member_ms_);
    for (auto& i : active) {
      // A text issue follows the cluster of its first member while that is tracked.
      const uint64_t cluster = i.by == "text" && !i.members.empty() ? clusters_.cluster_of(i.members.front()) : 0;
      const std::string fp = i.fingerprint;
      issues_[fp] = active_issue{std::move(i), cluster};
    }
    update_metrics();
  }
  spdlog::info("event=mailbox_loaded waiting={} closed={} early_replies={} cluster_members={} "
               "active_issues={} calendar_years={}",
               waiting_.size(), closed_, early_replies_.size(), clusters_.tracked(), issues_.size(),
               [&] {
                 std::string y;
                 for (int year : calendar_.years()) y += (y.empty() ? "" : ",") + std::to_string(year);
                 return y.empty() ? std::string("none") : y;
               }());
  started_ = true;
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      tick();
      for (int i = 0; i < 10 && !stopping_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  return ok_status();
}

void mailbox::stop() {
  if (!started_) return;
  started_ = false;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

size_t mailbox::open_cases() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

mailbox_changes mailbox::prepare(storage::batch& b) {
  mailbox_changes ch;
  struct matched {
    std::vector<std::string> topics, sets, rules;
    std::vector<int> plan_items;
  };
  std::map<std::string_view, matched> hits;
  for (const auto& h : b.hits) {
    auto& m = hits[h.message_key];
    add_unique(m.topics, h.topic);
    add_unique(m.sets, h.set_id);
    add_unique(m.rules, h.set_id + "/" + h.rule_id);
    if (h.plan_item > 0) add_unique(m.plan_items, h.plan_item);
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& m : b.messages) {
    const bool is_reply = m.kind == "mailbox-reply";
    const bool is_mailbox = m.kind == "mailbox";
    auto hit = hits.find(m.key);
    const std::string text = is_reply ? std::string() : text_of(m);
    if (is_mailbox) {
      mailbox_case c;
      c.opened = true;
      c.id = m.id.empty() ? m.key : m.id;
      c.message_key = m.key;
      c.channel = m.channel;
      c.received_ms = m.time_ms;
      c.category = m.category;
      c.region = m.region;
      c.author = m.author;
      c.title = excerpt_of(m.title, 120);
      c.excerpt = excerpt_of(text);
      if (hit != hits.end()) {
        c.topics = hit->second.topics;
        c.sets = hit->second.sets;
        c.rules = hit->second.rules;
      }
      c.units = units_of(hit != hits.end() ? hit->second.plan_items : std::vector<int>{});
      const auto& rule = deadlines_.rule_for(c.category);
      c.deadline_text = rule.text();
      c.deadline_ms = rule.deadline(calendar_, c.received_ms);
      b.mailbox.emplace_back(mailbox_keys::opening(c.id), c.encode_opening());
      ch.openings.push_back(std::move(c));
    } else if (is_reply) {
      case_reply r{m.author, m.time_ms, m.key, excerpt_of(text_of(m))};
      b.mailbox.emplace_back(mailbox_keys::reply(m.id), mailbox_case::encode_reply(r));
      ch.replies.emplace_back(m.id, std::move(r));
      continue;
    }
    const auto& scope = cfg_.clusters_scope;
    if (scope == "none" || (scope == "mailbox" && !is_mailbox) ||
        (scope == "matched" && !is_mailbox && hit == hits.end()))
      continue;
    clusterer::member member;
    member.key = m.key;
    member.time_ms = m.time_ms;
    member.channel = m.channel;
    member.excerpt = excerpt_of(text, 160);
    member.sig = sign(text);
    b.mailbox.emplace_back(mailbox_keys::member(m.time_ms, m.key), encode_member(member));
    ch.members.push_back(std::move(member));
  }
  if (!ch.members.empty())
    ch.clustering_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ch;
}

void mailbox::stored(mailbox_changes ch) {
  if (ch.empty()) return;
  std::vector<std::pair<std::string, std::string>> writes;
  std::lock_guard lock(mu_);
  // A reply of this batch may answer a message of this batch, in either order.
  std::map<std::string, case_reply> replies;
  for (auto& [id, r] : ch.replies) replies[id] = std::move(r);
  std::set<std::pair<std::string, std::string>> touched;  // (by, what)
  for (auto& c : ch.openings) {
    touched.insert({"category", c.category.empty() ? "(none)" : c.category});
    for (const auto& t : c.topics) touched.insert({"topic", t});
    std::optional<case_reply> reply;
    if (auto r = replies.find(c.id); r != replies.end()) {
      reply = std::move(r->second);
      replies.erase(r);
    }
    apply_opening(std::move(c), std::move(reply));
  }
  for (auto& [id, r] : replies) apply_reply(id, r);
  for (const auto& [by, what] : touched) check_counts(latest_ms_, by, what, writes);
  // Issues by count that the newer messages no longer bear out.
  if (!ch.openings.empty()) {
    std::vector<std::pair<std::string, std::string>> counted_issues;
    for (const auto& [fp, a] : issues_)
      if (a.issue.by != "text" && !touched.count({a.issue.by, a.issue.what}))
        counted_issues.emplace_back(a.issue.by, a.issue.what);
    for (const auto& [by, what] : counted_issues) check_counts(latest_ms_, by, what, writes);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::set<uint64_t> clusters;
  const size_t members = ch.members.size();
  for (auto& m : ch.members) {
    latest_member_ms_ = std::max(latest_member_ms_, m.time_ms);
    clusters.insert(clusters_.add(std::move(m)).first);
  }
  if (members > 0) {
    clusters_.expire(latest_member_ms_);
    for (uint64_t c : clusters) check_cluster(c, writes);
    // Text issues whose cluster has shrunk below the count (its members aged out).
    std::vector<std::string> shrunk;
    for (auto& [fp, a] : issues_)
      if (a.issue.by == "text" && clusters_.size_of(a.cluster) < static_cast<size_t>(cfg_.clusters_count))
        shrunk.push_back(fp);
    for (const auto& fp : shrunk) resolve_issue(fp, "fewer than " + std::to_string(cfg_.clusters_count) +
                                                        " similar messages within the window");
    probe_.clustered(members, ch.clustering_seconds +
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                     clusters_.tracked());
  }
  if (!writes.empty())
    if (auto st = store_.put_mailbox(writes); !st)
      spdlog::error("event=mailbox_issue_not_stored error=\"{}\"", st.error_message());
  update_metrics();
}

void mailbox::forget(const std::vector<std::string>& case_ids) {
  std::lock_guard lock(mu_);
  for (const auto& id : case_ids) waiting_.erase(id);
  update_metrics();
}

void mailbox::apply_opening(mailbox_case c, std::optional<case_reply> reply) {
  latest_ms_ = std::max(latest_ms_, c.received_ms);
  recent_.push_back({c.received_ms, c.category.empty() ? "(none)" : c.category, c.topics, c.message_key, c.excerpt});
  const int64_t keep = 2 * int64_t{cfg_.concentrated_period_hours} * 3600000;
  while (!recent_.empty() && recent_.front().time_ms <= latest_ms_ - keep) recent_.pop_front();
  if (waiting_.count(c.id)) return;  // replayed
  if (reply) {
    // answered in the same batch
  } else if (auto it = early_replies_.find(c.id); it != early_replies_.end()) {
    reply = std::move(it->second);
    early_replies_.erase(it);
    spdlog::info("event=mailbox_reply_matched case={} unit={} reply_before_message=true", c.id, reply->unit);
  } else if (auto stored = store_.mailbox_value(mailbox_keys::reply(c.id)); stored && *stored) {
    if (auto r = mailbox_case::decode_reply(**stored)) reply = std::move(*r);
    if (reply) return;  // a replayed opening of a case closed before
  }
  if (reply) {
    c.reply = std::move(reply);
    ++closed_;
    probe_.replied(std::max<double>(0, static_cast<double>(c.reply->time_ms - c.received_ms) / 1000.0), c.on_time());
    return;
  }
  waiting_[c.id] = std::move(c);
}

void mailbox::apply_reply(const std::string& id, const case_reply& r) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) {
    if (auto opened = store_.mailbox_value(mailbox_keys::opening(id)); opened && *opened) return;  // closed already
    early_replies_[id] = r;
    return;
  }
  mailbox_case c = std::move(it->second);
  waiting_.erase(it);
  c.reply = r;
  ++closed_;
  probe_.replied(std::max<double>(0, static_cast<double>(r.time_ms - c.received_ms) / 1000.0), c.on_time());
  for (const auto& [kind, alert_id] : c.alerts)
    resolve_later("mailbox/" + kind + "/" + c.id, "replied by " + r.unit + " at " + format_rfc3339(r.time_ms));
}

void mailbox::check_counts(int64_t t, const std::string& by, const std::string& what,
                           std::vector<std::pair<std::string, std::string>>& writes) {
  const int64_t p = int64_t{cfg_.concentrated_period_hours} * 3600000;
  uint64_t now_count = 0, before = 0;
  int64_t first = 0, last = 0;
  std::vector<const counted*> in_period;
  for (const auto& c : recent_) {
    const bool match = by == "category" ? c.category == what
                                        : std::find(c.topics.begin(), c.topics.end(), what) != c.topics.end();
    if (!match) continue;
    if (c.time_ms > t - p && c.time_ms <= t) {
      ++now_count;
      if (!first || c.time_ms < first) first = c.time_ms;
      last = std::max(last, c.time_ms);
      in_period.push_back(&c);
    } else if (c.time_ms > t - 2 * p && c.time_ms <= t - p) {
      ++before;
    }
  }
  const bool on = now_count > static_cast<uint64_t>(cfg_.concentrated_count) ||
                  (before > 0 && now_count >= static_cast<uint64_t>(cfg_.concentrated_min_count) &&
                   now_count >= static_cast<uint64_t>(cfg_.concentrated_factor) * before);
  const std::string fp = "mailbox/concentrated_issue/" + by + "/" + what;
  auto it = issues_.find(fp);
  if (!on) {
    if (it != issues_.end())
      resolve_issue(fp, std::to_string(now_count) + " messages in the period, " + std::to_string(before) + " before");
    return;
  }
  const bool fresh = it == issues_.end();
  auto& a = issues_[fp];
  a.issue.fingerprint = fp;
  a.issue.by = by;
  a.issue.what = what;
  if (fresh || !a.issue.first_ms) a.issue.first_ms = first;
  a.issue.last_ms = last;
  a.issue.count = now_count;
  a.issue.previous = before;
  a.issue.members.clear();
  a.issue.examples.clear();
  for (auto e = in_period.rbegin(); e != in_period.rend() && a.issue.examples.size() < max_examples; ++e) {
    a.issue.members.push_back((*e)->key);
    a.issue.examples.push_back((*e)->excerpt);
  }
  raise_issue(a, fresh, writes);
}

void mailbox::check_cluster(uint64_t cluster, std::vector<std::pair<std::string, std::string>>& writes) {
  const size_t n = clusters_.size_of(cluster);
  if (n < static_cast<size_t>(cfg_.clusters_count)) return;
  const std::string fp = "mailbox/concentrated_issue/text/" + hex8(clusters_.first_key(cluster));
  const bool fresh = !issues_.count(fp);
  auto& a = issues_[fp];
  a.cluster = cluster;
  a.issue.fingerprint = fp;
  a.issue.by = "text";
  a.issue.what = clusters_.representative(cluster);
  a.issue.count = n;
  a.issue.members.clear();
  a.issue.examples.clear();
  const auto members = clusters_.members_of(cluster);
  if (fresh || !a.issue.first_ms) a.issue.first_ms = members.front()->time_ms;
  a.issue.last_ms = members.back()->time_ms;
  for (const auto* m : members) a.issue.members.push_back(m->key);
  for (auto m = members.rbegin(); m != members.rend() && a.issue.examples.size() < max_examples; ++m)
    a.issue.examples.push_back((*m)->channel + ": " + (*m)->excerpt);
  raise_issue(a, fresh, writes);
}

void mailbox::raise_issue(active_issue& a, bool fresh, std::vector<std::pair<std::string, std::string>>& writes) {
  auto& i = a.issue;
  if (fresh) {
    i.fired_ms = clk_.now_ms();
    probe_.alert("concentrated_issue");
    spdlog::info("event=mailbox_concentrated_issue by={} what=\"{}\" count={} previous={}", i.by,
                 excerpt_of(i.what, 60), i.count, i.previous);
  }
  writes.emplace_back(mailbox_keys::issue(i.fired_ms, i.fingerprint), i.to_json());
  alerting::alert al;
  al.fingerprint = i.fingerprint;
  al.origin = "mailbox";
  al.kind = "concentrated_issue";
  al.level = matchers::parse_alert_level(cfg_.mailbox_concentrated_level).value_or(alerting::alert_level::orange);
  al.topic = i.by == "topic" ? i.what : "";
  al.set_id = "mailbox";
  al.alert_rule = "concentrated_issue/" + i.by;
  al.plan_item = 11;
  if (plan_)
    if (const auto* item = plan_->item(11)) {
      al.plan_text = item->subsection.empty() ? item->text : item->subsection;
      al.lead_units = item->lead_units;
      al.cooperating_units = item->cooperating_units;
    }
  al.count = i.count;
  al.baseline = static_cast<double>(i.previous);
  al.window_ms = i.by == "text" ? int64_t{cfg_.clusters_window_hours} * 3600000
                                : int64_t{cfg_.concentrated_period_hours} * 3600000;
  al.first_hit_ms = i.first_ms;
  al.last_hit_ms = i.last_ms;
  for (size_t n = 0; n < i.examples.size(); ++n)
    al.examples.push_back({n < i.members.size() && i.by != "text" ? i.members[n] : "", i.last_ms, i.by, "", i.examples[n]});
  al.labels = {{"issue", hex8(i.fingerprint)}, {"by", i.by}};
  if (sink_.raise) sink_.raise(std::move(al));
}

void mailbox::resolve_issue(const std::string& fingerprint, const std::string& why) {
  auto it = issues_.find(fingerprint);
  if (it == issues_.end()) return;
  auto issue = std::move(it->second.issue);
  issues_.erase(it);
  issue.active = false;  // kept for reports with its figures
  if (auto st = store_.put_mailbox({{mailbox_keys::issue(issue.fired_ms, fingerprint), issue.to_json()}}); !st)
    spdlog::error("event=mailbox_issue_not_stored error=\"{}\"", st.error_message());
  spdlog::info("event=mailbox_concentrated_issue_ended fingerprint=\"{}\" why=\"{}\"", fingerprint, why);
  resolve_later(fingerprint, why);
}

void mailbox::resolve_later(const std::string& fingerprint, const std::string& note) {
  if (sink_.resolve && sink_.resolve(fingerprint, note)) return;
  to_resolve_[fingerprint] = {note, clk_.now_ms()};
}

alerting::alert mailbox::case_alert(const mailbox_case& c, const std::string& kind) const {
  alerting::alert a;
  a.fingerprint = "mailbox/" + kind + "/" + c.id;
  a.origin = "mailbox";
  a.kind = kind;
  a.level = matchers::parse_alert_level(kind == "overdue" ? cfg_.mailbox_overdue_level : cfg_.mailbox_due_soon_level)
                .value_or(alerting::alert_level::yellow);
  a.topic = c.topics.empty() ? "" : c.topics.front();
  a.set_id = "mailbox";
  a.alert_rule = kind;
  a.plan_item = 11;
  if (plan_)
    if (const auto* item = plan_->item(11)) {
      a.plan_text = item->subsection.empty() ? item->text : item->subsection;
      a.cooperating_units = item->cooperating_units;
    }
  a.lead_units = c.units;
  a.count = 1;
  a.first_hit_ms = a.last_hit_ms = c.received_ms;
  // No response clocks of the 61号 notice here: the case's own deadline is the clock, and
  // its overdue alert is the reminder.
  a.examples.push_back({c.message_key, c.received_ms, c.category, c.author, c.excerpt});
  a.labels = {{"case", c.id}, {"category", c.category.empty() ? "(none)" : c.category},
              {"deadline", format_rfc3339(c.deadline_ms)}};
  return a;
}

void mailbox::tick() {
  const int64_t now = clk_.now_ms();
  const int64_t lead = int64_t{cfg_.mailbox_due_soon_hours} * 3600000;
  std::lock_guard lock(mu_);
  // The cases whose due_soon or overdue alert is due now (at most max_alerts_per_tick: a
  // backlog after an outage goes out over a few ticks, without holding the cases for long).
  std::vector<std::pair<mailbox_case*, std::string>> due;
  std::vector<std::pair<std::string, std::string>> markers;
  for (auto& [id, c] : waiting_) {
    if (due.size() >= max_alerts_per_tick) break;
    std::string kind;
    if (now >= c.deadline_ms && !c.alerts.count("overdue")) kind = "overdue";
    else if (c.due_soon(now, lead) && !c.alerts.count("due_soon")) kind = "due_soon";
    if (kind.empty()) continue;
    markers.emplace_back(mailbox_keys::alert(id, kind), "mailbox/" + kind + "/" + id);
    due.emplace_back(&c, kind);
  }
  // The markers first, in one write: a case alerts at most once per kind, restarts included.
  if (auto st = store_.put_mailbox(markers); !st) {
    spdlog::error("event=mailbox_alerts_not_marked alerts={} error=\"{}\" action=retry", markers.size(),
                  st.error_message());
    due.clear();
  }
  for (auto& [c, kind] : due) {
    auto a = case_alert(*c, kind);
    c->alerts[kind] = a.fingerprint;
    probe_.alert(kind);
    spdlog::info("event=mailbox_{} case={} category={} deadline={} units={}", kind, c->id, c->category,
                 format_rfc3339(c->deadline_ms), fmt::join(c->units, ","));
    if (sink_.raise) sink_.raise(std::move(a));
    if (kind == "overdue" && c->alerts.count("due_soon"))
      resolve_later("mailbox/due_soon/" + c->id, "the deadline has passed (overdue alert raised)");
  }
  for (auto it = to_resolve_.begin(); it != to_resolve_.end();) {
    if ((sink_.resolve && sink_.resolve(it->first, it->second.first)) || now - it->second.second > resolve_retry_ms)
      it = to_resolve_.erase(it);
    else
      ++it;
  }
  // Cluster members past the window leave the store too (at most every ten minutes).
  const int64_t window = int64_t{cfg_.clusters_window_hours} * 3600000;
  if (latest_member_ms_ > window && now - members_pruned_ms_ >= 600000) {
    members_pruned_ms_ = now;
    if (auto st = store_.delete_mailbox_range(mailbox_keys::member(0, ""), mailbox_keys::member(latest_member_ms_ - window, ""));
        !st)
      spdlog::warn("event=mailbox_members_not_pruned error=\"{}\"", st.error_message());
  }
  for (int year : calendar_.missing_years()) {
    if (missing_years_logged_.insert(year).second)
      spdlog::warn("event=calendar_year_missing year={} effect=\"deadlines count weekends only\" "
                   "fix=\"add {}/cn-{}.yaml\"", year, cfg_.calendar_dir.string(), year);
  }
  update_metrics();
}

void mailbox::update_metrics() {
  const int64_t now = clk_.now_ms();
  std::map<std::string, int64_t> by_state{{"open", 0}, {"overdue", 0}, {"closed", static_cast<int64_t>(closed_)}};
  std::map<std::string, int64_t> open, overdue;
  for (const auto& [id, c] : waiting_) {
    const bool late = now >= c.deadline_ms;
    ++by_state[late ? "overdue" : "open"];
    for (const auto& u : c.units) ++(late ? overdue : open)[u];
  }
  probe_.cases(by_state, open, overdue, static_cast<int64_t>(early_replies_.size()));
}

}  // namespace yuqing::daemon
