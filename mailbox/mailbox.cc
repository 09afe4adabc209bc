#include "mailbox/mailbox.h"

#include "common/time.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace yuqing::mailbox {

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

// The stored form of a clustering member: channel \0 excerpt \0 flags \0 topic \0 signature
// (256 bytes), flags holding 'm' (mailbox) and 'o' (official). Older records lack flags and
// topic: channel \0 excerpt \0 signature.
std::string encode_member(const clusterer::member& m) {
  const std::string flags = std::string(m.mailbox ? "m" : "") + (m.official ? "o" : "");
  std::string v = m.channel + '\0' + m.excerpt + '\0' + flags + '\0' + m.topic + '\0';
  v.append(reinterpret_cast<const char*>(m.sig.data()), sizeof(uint32_t) * m.sig.size());
  return v;
}

bool decode_member(std::string_view key, std::string_view value, clusterer::member& m) {
  const size_t sig_bytes = sizeof(uint32_t) * m.sig.size();
  if (key.size() < 10 || value.size() < sig_bytes + 2) return false;
  // The text fields: up to the NUL after which exactly a signature is left.
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (fields.size() < 4) {
    const auto nul = value.find('\0', at);
    if (nul == std::string_view::npos) return false;
    fields.push_back(value.substr(at, nul - at));
    at = nul + 1;
    if (value.size() - at == sig_bytes && (fields.size() == 2 || fields.size() == 4)) break;
  }
  if (value.size() - at != sig_bytes) return false;
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(key[2 + i]);
  m.time_ms = static_cast<int64_t>(t);
  m.key.assign(key.substr(10));
  m.channel.assign(fields[0]);
  m.excerpt.assign(fields[1]);
  if (fields.size() == 4) {
    m.mailbox = fields[2].find('m') != std::string_view::npos;
    m.official = fields[2].find('o') != std::string_view::npos;
    m.topic.assign(fields[3]);
  }
  std::memcpy(m.sig.data(), value.data() + at, sig_bytes);
  return true;
}

// Every case in the store (openings joined with replies and alert markers), plus replies
// whose message is not known, in no particular order.
status read_cases(const storage::store& store, std::vector<mailbox_case>& out,
                  const std::function<bool(const mailbox_case&)>& keep = {},
                  const std::function<void(uint64_t)>& progress = {}) {
  std::map<std::string, case_reply> replies;
  std::map<std::string, std::map<std::string, std::string>> markers;
  auto st = store.scan("mailbox", mailbox_keys::replies, [&](std::string_view k, std::string_view v) {
    if (auto r = mailbox_case::decode_reply(v)) replies[std::string(k.substr(2))] = std::move(*r);
    return true;
  });
  if (!st) return st;
  st = store.scan("mailbox", mailbox_keys::alerts, [&](std::string_view k, std::string_view v) {
    const auto rest = k.substr(2);
    const auto sep = rest.find('\0');
    if (sep != std::string_view::npos)
      markers[std::string(rest.substr(0, sep))][std::string(rest.substr(sep + 1))] = std::string(v);
    return true;
  });
  if (!st) return st;
  uint64_t done = 0;
  st = store.scan("mailbox", mailbox_keys::openings, [&](std::string_view, std::string_view v) {
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
    auto st = store.scan("mailbox", mailbox_keys::openings, [&](std::string_view, std::string_view) {
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
  st = store.scan("mailbox", mailbox_keys::issues, [&](std::string_view, std::string_view v) {
    auto i = concentrated_issue::from_json(v);
    if (i && i->last_ms >= from_ms && i->first_ms < to_ms) issues[i->fingerprint] = std::move(*i);
    return true;
  });
  if (!st) return error{st.error_message()};
  for (auto& [fp, i] : issues) (i.by == "same_text" ? r.same_text : r.issues).push_back(std::move(i));
  for (auto* list : {&r.issues, &r.same_text}) {
    std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) {
      return a.count != b.count ? a.count > b.count : a.fingerprint < b.fingerprint;
    });
    if (list->size() > 20) list->resize(20);
  }
  if (progress) progress(total, total);
  return r;
}

service::service(const config::daemon_config& cfg, storage::store& store, calendar cal,
                 std::shared_ptr<const config::plan> plan, mailbox::probe& probe, const clock& clk)
    : cfg_(cfg), store_(store), calendar_(std::move(cal)), plan_(std::move(plan)), probe_(probe), clk_(clk),
      clusters_(cluster_options{cfg.clusters_similarity_percent / 100.0,
                                int64_t{cfg.clusters_window_hours} * 3600000,
                                static_cast<size_t>(cfg.clusters_max_tracked)}) {
  for (const auto& [category, text] : cfg.mailbox_deadlines)
    if (auto r = parse_deadline_rule(text)) deadlines_.by_category[category] = *r;
  if (auto r = parse_deadline_rule(cfg.mailbox_default_deadline)) deadlines_.otherwise = *r;
  if (cfg.clusters_scope != "none") clusters_.reserve();  // size the tables once, not by rehashing
  // Until ingest says how far the replies are read, deadline checks wait (reply channels
  // configured, none assigned yet).
  for (const auto& ch : cfg.channels) replies_.channels = replies_.channels || ch.kind == config::channel_kind::mailbox_reply;
}

service::~service() { stop(); }

std::vector<std::string> service::units_of(const std::vector<int>& plan_items) const {
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

status service::start(case_alert_sink sink) {
  sink_ = std::move(sink);
  std::vector<mailbox_case> all;
  if (auto st = read_cases(store_, all); !st) return st;
  std::vector<clusterer::member> members;
  auto st = store_.scan("mailbox", mailbox_keys::members, [&](std::string_view k, std::string_view v) {
    clusterer::member m;
    if (decode_member(k, v, m)) members.push_back(std::move(m));
    return true;
  });
  if (!st) return st;
  std::vector<concentrated_issue> active;
  st = store_.scan("mailbox", mailbox_keys::issues, [&](std::string_view, std::string_view v) {
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
      add_counted(c);
      if (!c.reply) waiting_[c.id] = std::move(c);
    }
    prune_series();
    std::set<std::string> mailbox_channels;  // members stored before they carried the flag
    for (const auto& ch : cfg_.channels)
      if (ch.kind == config::channel_kind::mailbox) mailbox_channels.insert(ch.name);
    for (auto& m : members) {
      latest_member_ms_ = std::max(latest_member_ms_, m.time_ms);
      m.mailbox = m.mailbox || mailbox_channels.count(m.channel);
      clusters_.add(std::move(m));
    }
    clusters_.expire(latest_member_ms_);
    batch_effects fx;
    for (auto& i : active) {
      // A text issue follows the cluster of its oldest member still tracked.
      const bool by_text = i.by == "text" || i.by == "same_text";
      uint64_t cluster = 0;
      for (size_t m = 0; by_text && !cluster && m < i.members.size(); ++m) cluster = clusters_.cluster_of(i.members[m]);
      const std::string fp = i.fingerprint;
      issues_[fp] = active_issue{std::move(i), cluster};
      if (by_text && !cluster) resolve_issue(fp, "none of its messages is within the window any more", fx);
    }
    for (const auto& [key, value] : fx.writes)
      if (auto st = store_.put("mailbox", {{key, value}}); !st)
        spdlog::error("event=mailbox_issue_not_stored error=\"{}\"", st.error_message());
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

void service::stop() {
  if (!started_) return;
  started_ = false;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

size_t service::open_cases() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

mailbox_changes service::changes(storage::batch& b) {
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
      b.owned.push_back(storage::owned_record{"mailbox", mailbox_keys::opening(c.id), c.encode_opening()});
      ch.openings.push_back(std::move(c));
    } else if (is_reply) {
      case_reply r{m.author, m.time_ms, m.key, excerpt_of(text_of(m))};
      b.owned.push_back(storage::owned_record{"mailbox", mailbox_keys::reply(m.id), mailbox_case::encode_reply(r)});
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
    member.mailbox = is_mailbox;
    member.official = official(m);
    if (hit != hits.end() && !hit->second.topics.empty()) member.topic = hit->second.topics.front();
    member.excerpt = excerpt_of(text, 160);
    member.sig = sign(text);
    b.owned.push_back(storage::owned_record{"mailbox", mailbox_keys::member(m.time_ms, m.key), encode_member(member)});
    ch.members.push_back(std::move(member));
  }
  if (!ch.members.empty())
    ch.clustering_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ch;
}

void service::apply(mailbox_changes ch) {
  if (ch.empty()) return;
  batch_effects fx;
  std::lock_guard lock(mu_);
  // A reply of this batch may answer a message of this batch, in either order.
  std::map<std::string, case_reply> replies;
  for (auto& [id, r] : ch.replies) replies[id] = std::move(r);
  // One message at a time, in the order of the stream: the same stream gives the same
  // cases, issues and alerts however it was cut into batches.
  for (auto& c : ch.openings) {
    std::optional<case_reply> reply;
    if (auto r = replies.find(c.id); r != replies.end()) {
      reply = std::move(r->second);
      replies.erase(r);
    }
    apply_opening(std::move(c), std::move(reply), fx);
  }
  for (auto& [id, r] : replies) apply_reply(id, r);
  const auto t0 = std::chrono::steady_clock::now();
  const size_t members = ch.members.size();
  for (auto& m : ch.members) cluster_member(std::move(m), fx);
  if (members > 0)
    probe_.clustered(members, ch.clustering_seconds +
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                     clusters_.tracked());
  // Issues that grew in this batch: their figures are written and announced once.
  for (const auto& fp : fx.updated) {
    auto it = issues_.find(fp);
    if (it == issues_.end()) continue;
    if (it->second.cluster) fill_cluster_issue(it->second);
    fx.writes[mailbox_keys::issue(it->second.issue.fired_ms, fp)] = it->second.issue.to_json();
    if (sink_.raise) sink_.raise(issue_alert(it->second.issue));
  }
  if (!fx.writes.empty()) {
    std::vector<std::pair<std::string, std::string>> writes(fx.writes.begin(), fx.writes.end());
    if (auto st = store_.put("mailbox", writes); !st)
      spdlog::error("event=mailbox_issue_not_stored error=\"{}\"", st.error_message());
  }
  update_metrics();
}

void service::replies_read(const reply_progress& p) {
  std::lock_guard lock(mu_);
  replies_ = p;
}

bool service::official(const storage::message_record& m) const {
  const auto& list = cfg_.clusters_official_sources;
  return std::find(list.begin(), list.end(), m.source_name) != list.end() ||
         std::find(list.begin(), list.end(), m.channel) != list.end();
}

std::set<std::string> service::followed_topics() const {
  std::set<std::string> topics;
  for (const auto& ch : cfg_.channels)
    if (ch.kind == config::channel_kind::mailbox_reply) topics.insert(ch.topic);
  return topics;
}

void service::progress(const ingest::read_progress& p) {
  replies_read({true, p.assigned, p.behind, p.read_until_ms});
}

std::function<void()> service::hand_back(const std::vector<storage::message_record>& messages,
                                         storage::erasure& e) {
  std::vector<std::string> case_ids;
  for (const auto& msg : messages) {
    e.owned_keys.emplace_back("mailbox", mailbox_keys::member(msg.time_ms, msg.key));
    if (msg.kind == "mailbox") {
      case_ids.push_back(msg.id.empty() ? msg.key : msg.id);
      e.owned_keys.emplace_back("mailbox", mailbox_keys::opening(case_ids.back()));
    } else if (msg.kind == "mailbox-reply") {
      e.owned_keys.emplace_back("mailbox", mailbox_keys::reply(msg.id));
    }
  }
  return [this, case_ids] { forget(case_ids); };
}

void service::forget(const std::vector<std::string>& case_ids) {
  std::lock_guard lock(mu_);
  for (const auto& id : case_ids) waiting_.erase(id);
  update_metrics();
}

void service::apply_opening(mailbox_case c, std::optional<case_reply> reply, batch_effects& fx) {
  count_message(c, fx);
  if (waiting_.count(c.id)) return;  // replayed
  if (reply) {
    // answered in the same batch
  } else if (auto it = early_replies_.find(c.id); it != early_replies_.end()) {
    reply = std::move(it->second);
    early_replies_.erase(it);
    spdlog::info("event=mailbox_reply_matched case={} unit={} reply_before_message=true", c.id, reply->unit);
  } else if (auto stored = store_.get("mailbox", mailbox_keys::reply(c.id)); stored && *stored) {
    if (auto r = mailbox_case::decode_reply(**stored)) reply = std::move(*r);
    if (reply) return;  // a replayed opening of a case closed before
  }
  if (reply) {
    c.reply = std::move(reply);
    ++closed_;
    probe_.replied(std::max<double>(0, static_cast<double>(c.reply->time_ms - c.received_ms) / 1000.0), c.on_time());
    if (!c.on_time() && raise_case_alert(c, "overdue"))
      resolve_later("mailbox/overdue/" + c.id, "replied late by " + c.reply->unit + " at " + common::format_rfc3339(c.reply->time_ms));
    return;
  }
  waiting_[c.id] = std::move(c);
}

void service::apply_reply(const std::string& id, const case_reply& r) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) {
    if (auto opened = store_.get("mailbox", mailbox_keys::opening(id)); opened && *opened) return;  // closed already
    early_replies_[id] = r;
    return;
  }
  mailbox_case c = std::move(it->second);
  waiting_.erase(it);
  c.reply = r;
  ++closed_;
  probe_.replied(std::max<double>(0, static_cast<double>(r.time_ms - c.received_ms) / 1000.0), c.on_time());
  // A late reply: the case was overdue, whether or not a tick saw it before the reply was read.
  if (!c.on_time()) raise_case_alert(c, "overdue");
  for (const auto& [kind, alert_id] : c.alerts)
    resolve_later("mailbox/" + kind + "/" + c.id, "replied by " + r.unit + " at " + common::format_rfc3339(r.time_ms));
}

bool service::add_counted(const mailbox_case& c) {
  const counted entry{c.received_ms, c.message_key, c.excerpt};
  auto add = [&](series_key k) {
    auto& v = series_[std::move(k)];
    auto at = std::lower_bound(v.begin(), v.end(), entry);
    if (at != v.end() && at->time_ms == entry.time_ms && at->key == entry.key) return false;  // replayed
    v.insert(at, entry);
    return true;
  };
  bool fresh = add({"category", c.category.empty() ? "(none)" : c.category});
  for (const auto& t : c.topics) fresh = add({"topic", t}) && fresh;
  return fresh;
}

void service::prune_series() {
  const int64_t keep = 2 * int64_t{cfg_.concentrated_period_hours} * 3600000;
  for (auto it = series_.begin(); it != series_.end();) {
    auto& v = it->second;
    auto end = std::find_if(v.begin(), v.end(), [&](const counted& c) { return c.time_ms > latest_ms_ - keep; });
    v.erase(v.begin(), end);
    it = v.empty() ? series_.erase(it) : std::next(it);
  }
}

void service::count_message(const mailbox_case& c, batch_effects& fx) {
  if (!add_counted(c)) return;
  const bool newest = c.received_ms >= latest_ms_;
  latest_ms_ = std::max(latest_ms_, c.received_ms);
  prune_series();
  std::vector<series_key> keys = {{"category", c.category.empty() ? "(none)" : c.category}};
  for (const auto& t : c.topics) keys.push_back({"topic", t});
  // The window ending at this message; a late message also counts in the newest window.
  for (const auto& k : keys) {
    check_counts(k, c.received_ms, newest, fx);
    if (!newest) check_counts(k, latest_ms_, true, fx);
  }
  if (!newest) return;
  // Active issues of other series that the newest window no longer bears out.
  std::vector<series_key> others;
  for (const auto& [fp, a] : issues_)
    if (!a.cluster && a.issue.by != "text" && a.issue.by != "same_text" &&
        std::find(keys.begin(), keys.end(), series_key{a.issue.by, a.issue.what}) == keys.end())
      others.emplace_back(a.issue.by, a.issue.what);
  for (const auto& k : others) check_counts(k, latest_ms_, true, fx);
}

// The window (t - period, t] of one series against the period before: raised, updated or
// (may_resolve: t is the newest time) resolved.
void service::check_counts(const series_key& s, int64_t t, bool may_resolve, batch_effects& fx) {
  static const std::vector<counted> none;
  const auto found = series_.find(s);
  const auto& v = found == series_.end() ? none : found->second;
  const int64_t p = int64_t{cfg_.concentrated_period_hours} * 3600000;
  auto after = [&](int64_t x) {  // first element later than x
    return std::upper_bound(v.begin(), v.end(), x, [](int64_t x, const counted& c) { return x < c.time_ms; });
  };
  const auto begin = after(t - p), end = after(t), before_begin = after(t - 2 * p);
  const auto now_count = static_cast<uint64_t>(end - begin), before = static_cast<uint64_t>(begin - before_begin);
  const bool on = now_count > static_cast<uint64_t>(cfg_.concentrated_count) ||
                  (before > 0 && now_count >= static_cast<uint64_t>(cfg_.concentrated_min_count) &&
                   now_count >= static_cast<uint64_t>(cfg_.concentrated_factor) * before);
  const std::string fp = "mailbox/concentrated_issue/" + s.first + "/" + s.second;
  auto it = issues_.find(fp);
  if (!on) {
    if (it != issues_.end() && may_resolve)
      resolve_issue(fp, std::to_string(now_count) + " messages in the period, " + std::to_string(before) + " before", fx);
    return;
  }
  const bool fresh = it == issues_.end();
  auto& a = issues_[fp];
  if (!fresh && t < a.evaluated_ms) return;  // an older window than the one shown
  a.evaluated_ms = t;
  a.issue.fingerprint = fp;
  a.issue.by = s.first;
  a.issue.what = s.second;
  if (fresh || !a.issue.first_ms) a.issue.first_ms = begin->time_ms;
  a.issue.last_ms = std::prev(end)->time_ms;
  a.issue.count = now_count;
  a.issue.previous = before;
  a.issue.members.clear();
  a.issue.examples.clear();
  for (auto e = std::make_reverse_iterator(end); e != std::make_reverse_iterator(begin) &&
                                                  a.issue.examples.size() < max_examples; ++e) {
    a.issue.members.push_back(e->key);
    a.issue.examples.push_back(e->excerpt);
  }
  raise_issue(a, fresh, fx);
}

void service::cluster_member(clusterer::member m, batch_effects& fx) {
  latest_member_ms_ = std::max(latest_member_ms_, m.time_ms);
  if (clusters_.expire(latest_member_ms_) > 0) {
    // Text issues whose cluster has shrunk below the count (its members aged out).
    std::vector<std::pair<uint64_t, bool>> shrunk;
    for (const auto& [fp, a] : issues_)
      if (a.cluster) shrunk.emplace_back(a.cluster, a.issue.by == "same_text");
    for (const auto& [cluster, same_text] : shrunk) check_cluster(cluster, same_text, fx);
  }
  const uint64_t cluster = clusters_.add(std::move(m)).first;
  check_cluster(cluster, false, fx);
  check_cluster(cluster, true, fx);
}

// A cluster as a mailbox concentrated issue (it holds a mailbox message: plan item 11), or
// as a 同文多发 issue (same_text: as many posts and news items, plan item 12).
void service::check_cluster(uint64_t cluster, bool same_text, batch_effects& fx) {
  const size_t n = clusters_.size_of(cluster), mailbox_n = clusters_.mailbox_size_of(cluster);
  const auto count = static_cast<size_t>(cfg_.clusters_count);
  // Reposts of an official item are no concern of the public, however many.
  const bool reposts = clusters_.official_size_of(cluster) > 0;
  const bool on = !reposts && (same_text ? n - mailbox_n >= count : n >= count && mailbox_n > 0);
  // An active issue keeps its name (a restart may rebuild the cluster from another first
  // member); a new one is named after the cluster's first member.
  std::string fp;
  for (const auto& [f, a] : issues_)
    if (a.cluster == cluster && (a.issue.by == "same_text") == same_text) fp = f;
  if (fp.empty()) {
    if (n == 0) return;
    fp = (same_text ? "opinion/same_text/" : "mailbox/concentrated_issue/text/") + hex8(clusters_.first_key(cluster));
  }
  auto it = issues_.find(fp);
  if (!on) {
    if (it != issues_.end())
      resolve_issue(fp, "fewer than " + std::to_string(count) + " similar messages within the window", fx);
    return;
  }
  if (it != issues_.end()) {  // grown: its members are listed once, at the end of the batch
    fx.updated.insert(fp);
    return;
  }
  auto& a = issues_[fp];
  a.cluster = cluster;
  a.issue.fingerprint = fp;
  a.issue.by = same_text ? "same_text" : "text";
  fill_cluster_issue(a);
  raise_issue(a, true, fx);
}

void service::fill_cluster_issue(active_issue& a) {
  constexpr size_t max_listed = 1000;  // a flood is one issue: its count says how big
  const auto members = clusters_.members_of(a.cluster);
  if (members.empty()) return;
  auto& i = a.issue;
  i.what = clusters_.representative(a.cluster);
  i.count = members.size();
  if (!i.first_ms) i.first_ms = members.front()->time_ms;
  i.last_ms = members.back()->time_ms;
  i.members.clear();
  i.examples.clear();
  for (size_t m = 0; m < members.size() && m < max_listed; ++m) i.members.push_back(members[m]->key);
  if (i.topic.empty())
    for (const auto* m : members)
      if (!m->topic.empty()) {
        i.topic = m->topic;
        break;
      }
  for (auto m = members.rbegin(); m != members.rend() && i.examples.size() < max_examples; ++m)
    i.examples.push_back((*m)->channel + ": " + (*m)->excerpt);
}

void service::raise_issue(active_issue& a, bool fresh, batch_effects& fx) {
  auto& i = a.issue;
  if (!fresh) {
    fx.updated.insert(i.fingerprint);
    return;
  }
  i.fired_ms = clk_.now_ms();
  probe_.alert(i.by == "same_text" ? "same_text" : "concentrated_issue");
  spdlog::info("event=mailbox_concentrated_issue by={} what=\"{}\" count={} previous={}", i.by,
               excerpt_of(i.what, 60), i.count, i.previous);
  fx.writes[mailbox_keys::issue(i.fired_ms, i.fingerprint)] = i.to_json();
  fx.updated.erase(i.fingerprint);
  if (sink_.raise) sink_.raise(issue_alert(i));
}

alerting::alert service::issue_alert(const concentrated_issue& i) const {
  const bool same_text = i.by == "same_text";
  alerting::alert al;
  al.fingerprint = i.fingerprint;
  al.origin = same_text ? "clusters" : "mailbox";
  al.kind = same_text ? "same_text" : "concentrated_issue";
  al.level = alerting::parse_alert_level(same_text ? cfg_.same_text_level : cfg_.mailbox_concentrated_level)
                 .value_or(alerting::alert_level::orange);
  al.topic = same_text ? i.topic : i.by == "topic" ? i.what : "";
  al.set_id = same_text ? "clusters" : "mailbox";
  if (same_text) al.set_name = i.topic.empty() ? "帖文与新闻" : "帖文与新闻（" + i.topic + "）";
  al.alert_rule = same_text ? "same_text" : "concentrated_issue/" + i.by;
  al.plan_item = same_text ? 12 : 11;
  if (plan_)
    if (const auto* item = plan_->item(al.plan_item)) {
      al.plan_text = item->subsection.empty() ? item->text : item->subsection;
      al.lead_units = item->lead_units;
      al.cooperating_units = item->cooperating_units;
    }
  al.count = i.count;
  al.baseline = static_cast<double>(i.previous);
  al.window_ms = i.by == "text" || same_text ? int64_t{cfg_.clusters_window_hours} * 3600000
                                             : int64_t{cfg_.concentrated_period_hours} * 3600000;
  al.first_hit_ms = i.first_ms;
  al.last_hit_ms = i.last_ms;
  const bool by_text = i.by == "text" || same_text;
  for (size_t n = 0; n < i.examples.size(); ++n)
    al.examples.push_back({n < i.members.size() && !by_text ? i.members[n] : "", i.last_ms, i.by, "", i.examples[n]});
  al.labels = {{"issue", hex8(i.fingerprint)}, {"by", i.by}};
  return al;
}

void service::resolve_issue(const std::string& fingerprint, const std::string& why, batch_effects& fx) {
  auto it = issues_.find(fingerprint);
  if (it == issues_.end()) return;
  auto issue = std::move(it->second.issue);
  issues_.erase(it);
  fx.updated.erase(fingerprint);
  issue.active = false;  // kept for reports with its figures
  fx.writes[mailbox_keys::issue(issue.fired_ms, fingerprint)] = issue.to_json();
  spdlog::info("event=mailbox_concentrated_issue_ended fingerprint=\"{}\" why=\"{}\"", fingerprint, why);
  resolve_later(fingerprint, why);
}

void service::resolve_later(const std::string& fingerprint, const std::string& note) {
  if (sink_.resolve && sink_.resolve(fingerprint, note)) return;
  to_resolve_[fingerprint] = {note, clk_.now_ms()};
}

alerting::alert service::case_alert(const mailbox_case& c, const std::string& kind) const {
  alerting::alert a;
  a.fingerprint = "mailbox/" + kind + "/" + c.id;
  a.origin = "mailbox";
  a.kind = kind;
  a.level = alerting::parse_alert_level(kind == "overdue" ? cfg_.mailbox_overdue_level : cfg_.mailbox_due_soon_level)
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
              {"deadline", common::format_rfc3339(c.deadline_ms)}};
  return a;
}

std::string service::replies_wait_reason(int64_t until_ms) const {
  if (!replies_.channels) return "";
  if (replies_.assigned == 0) return "replies_not_assigned";
  if (replies_.behind > 0 && replies_.read_until_ms < until_ms) return "replies_behind";
  return "";
}

bool service::raise_case_alert(mailbox_case& c, const std::string& kind) {
  if (c.alerts.count(kind)) return true;
  if (auto st = store_.put("mailbox", {{mailbox_keys::alert(c.id, kind), "mailbox/" + kind + "/" + c.id}}); !st) {
    spdlog::error("event=mailbox_alerts_not_marked alerts=1 case={} error=\"{}\"", c.id, st.error_message());
    return false;
  }
  announce_case_alert(c, kind);
  return true;
}

void service::announce_case_alert(mailbox_case& c, const std::string& kind) {
  auto a = case_alert(c, kind);
  c.alerts[kind] = a.fingerprint;
  probe_.alert(kind);
  spdlog::info("event=mailbox_{} case={} category={} deadline={} units={}{}", kind, c.id, c.category,
               common::format_rfc3339(c.deadline_ms), fmt::join(c.units, ","),
               c.reply ? " replied_late_at=" + common::format_rfc3339(c.reply->time_ms) : "");
  if (sink_.raise) sink_.raise(std::move(a));
  if (kind == "overdue" && c.alerts.count("due_soon"))
    resolve_later("mailbox/due_soon/" + c.id, "the deadline has passed (overdue alert raised)");
}

void service::tick() {
  const int64_t now = clk_.now_ms();
  const int64_t lead = int64_t{cfg_.mailbox_due_soon_hours} * 3600000;
  std::lock_guard lock(mu_);
  // The cases whose due_soon or overdue alert is due now (at most max_alerts_per_tick: a
  // backlog after an outage goes out over a few ticks, without holding the cases for long).
  // Overdue is decided once the replies are read past the deadline, due soon only while
  // they are read to their end: a reply still unread must not be taken for none.
  std::vector<std::pair<mailbox_case*, std::string>> due;
  std::vector<std::pair<std::string, std::string>> markers;
  waiting_checks_.clear();
  for (auto& [id, c] : waiting_) {
    if (due.size() >= max_alerts_per_tick) break;
    std::string kind;
    if (now >= c.deadline_ms && !c.alerts.count("overdue")) kind = "overdue";
    else if (c.due_soon(now, lead) && !c.alerts.count("due_soon")) kind = "due_soon";
    if (kind.empty()) continue;
    if (auto why = replies_wait_reason(kind == "overdue" ? c.deadline_ms : now); !why.empty()) {
      ++waiting_checks_[why];
      continue;
    }
    markers.emplace_back(mailbox_keys::alert(id, kind), "mailbox/" + kind + "/" + id);
    due.emplace_back(&c, kind);
  }
  // The markers first, in one write: a case alerts at most once per kind, restarts included.
  if (auto st = store_.put("mailbox", markers); !st) {
    spdlog::error("event=mailbox_alerts_not_marked alerts={} error=\"{}\" action=retry", markers.size(),
                  st.error_message());
    due.clear();
  }
  for (auto& [c, kind] : due) announce_case_alert(*c, kind);
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
    if (auto st = store_.delete_range("mailbox", mailbox_keys::member(0, ""), mailbox_keys::member(latest_member_ms_ - window, ""));
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

void service::update_metrics() {
  const int64_t now = clk_.now_ms();
  std::map<std::string, int64_t> by_state{{"open", 0}, {"overdue", 0}, {"closed", static_cast<int64_t>(closed_)}};
  std::map<std::string, int64_t> open, overdue;
  for (const auto& [id, c] : waiting_) {
    const bool late = now >= c.deadline_ms;
    ++by_state[late ? "overdue" : "open"];
    for (const auto& u : c.units) ++(late ? overdue : open)[u];
  }
  probe_.cases(by_state, open, overdue, static_cast<int64_t>(early_replies_.size()));
  probe_.deadline_checks_waiting(waiting_checks_);
}

}  // namespace yuqing::mailbox
