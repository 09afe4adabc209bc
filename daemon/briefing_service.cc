#include "daemon/briefing_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "alerting/alert.h"
#include "alerting/service.h"
#include "mailbox/cases.h"
#include "http/client.h"
#include "mailbox/mailbox.h"
#include "daemon/risk_service.h"
#include "matchers/matcher.h"
#include "precision/precision.h"

namespace yuqing::daemon {

namespace {

using njson = nlohmann::json;
namespace bf = yuqing::briefing;
constexpr std::string_view family = "briefings";

std::string receiver_name(const config::daemon_config::briefing_webhook& w) { return w.kind + " " + w.url; }

}  // namespace

// ---- stored_briefing -----------------------------------------------------------------------

std::string stored_briefing::encode() const {
  return njson{{"id", id}, {"kind", kind}, {"title", title}, {"from_ms", from_ms}, {"to_ms", to_ms},
              {"generated_ms", generated_ms}, {"trigger", trigger}, {"markdown", markdown}, {"html", html},
              {"json", json}, {"deliveries", deliveries}}
      .dump(-1, ' ', false, njson::error_handler_t::replace);
}

std::optional<stored_briefing> stored_briefing::decode(std::string_view text) {
  try {
    const auto j = njson::parse(text);
    stored_briefing b;
    b.id = j.at("id");
    b.kind = j.at("kind");
    b.title = j.at("title");
    b.from_ms = j.at("from_ms");
    b.to_ms = j.at("to_ms");
    b.generated_ms = j.at("generated_ms");
    b.trigger = j.value("trigger", "");
    b.markdown = j.at("markdown");
    b.html = j.at("html");
    b.json = j.at("json");
    b.deliveries = j.value("deliveries", std::map<std::string, std::string>{});
    return b;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string stored_briefing::summary_json(int off) const {
  auto t = [off](int64_t ms) { return bf::local_clock(ms, off); };
  njson d = njson::object();
  for (const auto& [receiver, outcome] : deliveries) {
    // the receiver's URL may carry its key: show the kind and the host only
    const auto sp = receiver.find(' ');
    std::string shown = receiver.substr(0, sp);
    if (sp != std::string::npos) {
      auto url = receiver.substr(sp + 1);
      const auto host_end = url.find('/', 7);
      shown += " " + url.substr(0, host_end);
    }
    d[shown] = outcome;
  }
  return njson{{"id", id}, {"kind", kind}, {"title", title}, {"from", t(from_ms)}, {"to", t(to_ms)},
              {"generated", t(generated_ms)}, {"trigger", trigger}, {"deliveries", d},
              {"formats", {"md", "html", "json"}}}
      .dump(-1, ' ', false, njson::error_handler_t::replace);
}

// ---- the service ---------------------------------------------------------------------------

briefing_service::briefing_service(const config::daemon_config& cfg, storage::store& store, const clock& clk,
                                   briefing_sources src, prometheus::Registry& registry)
    : cfg_(cfg),
      store_(store),
      clk_(clk),
      src_(std::move(src)),
      made_family_(prometheus::BuildCounter()
                       .Name("yuqing_briefing_made_total")
                       .Help("Briefings made, by kind (daily, weekly) and trigger (schedule, api)")
                       .Register(registry)),
      pushed_family_(prometheus::BuildCounter()
                         .Name("yuqing_briefing_pushes_total")
                         .Help("Webhook requests that delivered a briefing part, by receiver kind")
                         .Register(registry)),
      failed_family_(prometheus::BuildCounter()
                         .Name("yuqing_briefing_push_failures_total")
                         .Help("Webhook requests of briefings that failed, by receiver kind (retried with the next "
                               "scheduled briefing)")
                         .Register(registry)) {
  for (const char* k : {"wecom", "dingtalk", "feishu", "generic"}) {
    pushed_family_.Add({{"kind", k}});
    failed_family_.Add({{"kind", k}});
  }
}

briefing_service::~briefing_service() { stop(); }

status briefing_service::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_.load()) {
      lock.unlock();
      tick();
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_.load() || !pending_.empty(); });
    }
  });
  spdlog::info("event=briefing_started daily_at={} weekly_at={} webhooks={}", cfg_.briefing_daily_at,
               cfg_.briefing_weekly_at, cfg_.briefing_webhooks.size());
  return ok_status();
}

void briefing_service::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {

// Minutes after local midnight of "HH:MM"; -1 for off.
int minutes_of(const std::string& hhmm) {
  if (hhmm.size() != 5) return -1;
  return std::stoi(hhmm.substr(0, 2)) * 60 + std::stoi(hhmm.substr(3));
}

}  // namespace

void briefing_service::tick() {
  const int off = cfg_.mailbox_utc_offset_minutes;
  const int64_t now = clk_.now_ms();
  const auto today = bf::period_of(bf::period_kind::daily, now, off);
  const int64_t minutes = (now - today.from_ms) / 60000;
  if (const int at = minutes_of(cfg_.briefing_daily_at); at >= 0 && minutes >= at) due(today.previous());
  if (const int at = minutes_of(cfg_.briefing_weekly_at); at >= 0 && minutes >= at) {
    const auto week = bf::period_of(bf::period_kind::weekly, now, off);
    if (week.from_ms == today.from_ms) due(week.previous());  // Monday
  }
  push_pending();
}

void briefing_service::due(const bf::period& p) {
  const auto id = p.id();
  {
    std::lock_guard lock(mu_);
    if (checked_.count(id)) return;
  }
  auto found = store_.get(family, id);
  if (!found) {
    spdlog::error("event=briefing_read_failed id={} error=\"{}\"", id, found.error_message());
    return;  // tried again at the next tick
  }
  if (!found->has_value()) {
    auto made = make(p, "schedule");
    if (!made) return;  // logged; tried again at the next tick
    std::lock_guard lock(mu_);
    retry_ = true;
  }
  std::lock_guard lock(mu_);
  checked_.insert(id);
}

result<stored_briefing> briefing_service::make(const bf::period& p, const std::string& trigger) {
  const auto in = assemble(p);
  const auto b = bf::build(in);
  stored_briefing s;
  s.id = b.id;
  s.kind = bf::to_string(p.kind);
  s.title = b.title;
  s.from_ms = p.from_ms;
  s.to_ms = p.to_ms;
  s.generated_ms = in.generated_ms;
  s.trigger = trigger;
  s.markdown = bf::to_markdown(b);
  s.html = bf::to_html(b);
  s.json = bf::to_json(b);
  for (const auto& w : cfg_.briefing_webhooks) s.deliveries[receiver_name(w)] = "pending";
  if (auto st = store_.put(family, {{s.id, s.encode()}}); !st) {
    spdlog::error("event=briefing_store_failed id={} error=\"{}\"", s.id, st.error_message());
    return error{"storing briefing " + s.id + ": " + st.error_message()};
  }
  made_family_.Add({{"kind", s.kind}, {"trigger", trigger == "schedule" ? "schedule" : "api"}}).Increment();
  spdlog::info("event=briefing_made id={} trigger=\"{}\" topics={} markdown_bytes={} html_bytes={}", s.id, trigger,
               b.topics.size(), s.markdown.size(), s.html.size());
  if (!cfg_.briefing_webhooks.empty()) {
    {
      std::lock_guard lock(mu_);
      pending_.insert(s.id);
      logged_.erase(s.id);
    }
    cv_.notify_all();
  }
  return s;
}

result<std::vector<stored_briefing>> briefing_service::list(size_t limit) const {
  std::vector<stored_briefing> out;
  auto st = store_.scan(family, "", [&](std::string_view, std::string_view value) {
    if (auto b = stored_briefing::decode(value)) out.push_back(std::move(*b));
    return true;
  });
  if (!st) return error{st.error_message()};
  std::sort(out.begin(), out.end(), [](const stored_briefing& a, const stored_briefing& b) {
    return a.from_ms != b.from_ms ? a.from_ms > b.from_ms : a.kind > b.kind;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

result<std::optional<stored_briefing>> briefing_service::get(const std::string& id) const {
  auto v = store_.get(family, id);
  if (!v) return error{v.error_message()};
  if (!v->has_value()) return std::optional<stored_briefing>{};
  auto b = stored_briefing::decode(**v);
  if (!b) return error{"briefing " + id + ": the stored record is malformed"};
  return std::optional<stored_briefing>{std::move(*b)};
}

void briefing_service::push_pending() {
  std::set<std::string> ids;
  {
    std::lock_guard lock(mu_);
    if (retry_) {  // a scheduled briefing: the failed ones go again with it
      retry_ = false;
      auto all = list(std::numeric_limits<size_t>::max());
      if (all)
        for (const auto& b : *all)
          for (const auto& [r, outcome] : b.deliveries)
            if (outcome != "ok") pending_.insert(b.id);
    }
    ids.swap(pending_);
  }
  for (const auto& id : ids) {
    if (stopping_.load()) return;
    auto b = get(id);
    if (!b || !b->has_value()) continue;
    deliver(**b);
  }
}

void briefing_service::deliver(stored_briefing& b) {
  for (const auto& w : cfg_.briefing_webhooks) {
    const auto name = receiver_name(w);
    if (b.deliveries[name] == "ok") continue;
    const auto kind = bf::parse_receiver(w.kind).value_or(bf::receiver_kind::generic);
    const auto bodies = bf::webhook_bodies(kind, b.title, b.markdown, b.json);
    auto url = http::parse_http_url(w.url);
    std::string failure;
    if (!url) failure = url.error_message();
    const auto q = w.url.find('?');
    const std::string target = url ? (url->path.empty() ? "/" : url->path) + (q == std::string::npos ? "" : w.url.substr(q)) : "";
    for (size_t i = 0; failure.empty() && i < bodies.size(); ++i) {
      http::http_call call;
      call.address = url->address;
      call.method = "POST";
      call.target = target;
      call.body = bodies[i];
      call.timeout = std::chrono::milliseconds(10000);
      auto reply = http::http_request_once(call);
      if (!reply) failure = reply.error_message();
      else if (reply->status < 200 || reply->status > 299)
        failure = "HTTP " + std::to_string(reply->status) + " for part " + std::to_string(i + 1) + "/" +
                  std::to_string(bodies.size());
      (failure.empty() ? pushed_family_ : failed_family_).Add({{"kind", w.kind}}).Increment();
    }
    b.deliveries[name] = failure.empty() ? "ok" : failure;
    if (failure.empty()) {
      spdlog::info("event=briefing_pushed id={} receiver={} parts={}", b.id, w.kind, bodies.size());
    } else {
      std::lock_guard lock(mu_);
      if (logged_.insert(b.id + " " + name).second)
        spdlog::warn("event=briefing_push_failed id={} receiver={} url_host={} error=\"{}\" effect=\"retried with the "
                     "next scheduled briefing\"",
                     b.id, w.kind, url ? url->address : std::string("?"), failure);
    }
  }
  if (auto st = store_.put(family, {{b.id, b.encode()}}); !st)
    spdlog::error("event=briefing_store_failed id={} error=\"{}\"", b.id, st.error_message());
}

// ---- assembling the figures ------------------------------------------------------------

namespace {

// The briefing.* settings.
bf::options options_of(const config::daemon_config& cfg) {
  bf::options o;
  o.organisation = cfg.briefing_organisation;
  o.top_clusters = static_cast<size_t>(cfg.briefing_top_clusters);
  o.top_regions = static_cast<size_t>(cfg.briefing_top_regions);
  o.top_rules = static_cast<size_t>(cfg.briefing_top_rules);
  o.reinterpret_count = static_cast<uint64_t>(cfg.briefing_reinterpret_count);
  return o;
}

// topic -> the name of its first set
std::map<std::string, std::string> topic_names(const briefing_sources& src) {
  std::map<std::string, std::string> names;
  if (auto sets = src.sets ? src.sets() : nullptr)
    for (const auto& s : sets->sets())
      if (!s->definition().topic.empty()) names.emplace(s->definition().topic, s->definition().name);
  return names;
}

bool has_mailbox_channel(const config::daemon_config& cfg) {
  return std::any_of(cfg.channels.begin(), cfg.channels.end(), [](const config::channel& c) {
    return c.kind == config::channel_kind::mailbox || c.kind == config::channel_kind::mailbox_reply;
  });
}

// Messages (every stored one whose time falls in the period or the one before), page by
// page; those of the period per hour or day too.
void count_messages(storage::store& store, bf::input& in) {
  const bf::period& p = in.p;
  const bf::period prev = p.previous();
  const size_t slots = p.kind == bf::period_kind::daily ? 24 : 7;
  const int64_t slot_ms = (p.to_ms - p.from_ms) / static_cast<int64_t>(slots);
  in.now.messages_by_slot.assign(slots, 0);
  std::string after;
  for (;;) {
    auto page = store.scan_messages(after, 2000);
    if (!page) {
      spdlog::warn("event=briefing_messages_unread error=\"{}\"", page.error_message());
      break;
    }
    for (const auto& m : page->messages) {
      if (m.time_ms >= p.from_ms && m.time_ms < p.to_ms) {
        ++in.now.messages;
        const auto slot = static_cast<size_t>((m.time_ms - p.from_ms) / slot_ms);
        if (slot < slots) ++in.now.messages_by_slot[slot];
      } else if (m.time_ms >= prev.from_ms && m.time_ms < prev.to_ms) {
        ++in.previous.messages;
      }
    }
    if (page->done || page->last_key.empty()) break;
    after = page->last_key;
  }
}

// A period's hits by topic and region (the region of each hit's message, by the risk
// engine's gazetteer; unplaced without the engine).
struct hit_tally {
  std::map<std::string, std::set<std::string>> topic_messages;   // topic -> keys
  std::map<std::string, uint64_t> topic_hits;
  std::map<std::string, std::set<std::string>> region_messages;  // region -> keys
};

// Counts the hits of the period into f (hits, messages with a hit) and the tally.
hit_tally count_hits(storage::store& store, const risk::engine* engine, const bf::period& p,
                     bf::period_figures& f) {
  hit_tally tally;
  std::set<std::string> hit_messages;
  storage::hit_query q;
  q.since_ms = p.from_ms;
  q.until_ms = p.to_ms;
  q.limit = 2000000;
  std::map<std::string, std::string> region_of;  // message key -> region
  if (auto hits = store.hits(q)) {
    for (const auto& h : *hits) {
      ++f.hits;
      hit_messages.insert(h.message_key);
      tally.topic_messages[h.topic].insert(h.message_key);
      ++tally.topic_hits[h.topic];
      auto it = region_of.find(h.message_key);
      if (it == region_of.end()) {
        std::string region = risk::unplaced;
        if (engine)
          if (auto m = store.message(h.message_key); m && m->has_value()) region = engine->region_of(**m);
        it = region_of.emplace(h.message_key, region).first;
      }
      tally.region_messages[it->second].insert(h.message_key);
    }
  } else {
    spdlog::warn("event=briefing_hits_unread error=\"{}\"", hits.error_message());
  }
  f.hit_messages = hit_messages.size();
  return tally;
}

// Alerts of the period, by level: placed by the time of their first hit (message time, so
// a backlog read later counts in the period its messages belong to), else when they fired
// (mailbox deadlines, losses).
void count_alerts(storage::store& store, const bf::period& p, bf::period_figures& f) {
  if (auto alerts = alerting::stored_alert_texts(store)) {
    for (const auto& text : *alerts) {
      auto a = alerting::alert::from_json(text);
      if (!a) continue;
      const int64_t t = a->first_hit_ms > 0 ? a->first_hit_ms : a->fired_ms;
      if (t >= p.from_ms && t < p.to_ms) ++f.alerts[alerting::to_string(a->level)];
    }
  }
}

// A topic's 全市 peak within the period: its index, level and the parts at the peak.
void set_topic_peak(const risk::engine& engine, const risk::snapshot_row& row, bf::topic_figures& t) {
  t.topic = row.now.topic;
  t.index = std::round(row.peak * 10) / 10;
  t.level = risk::to_string(row.peak_level);
  t.peak_ms = row.peak_ms;
  t.end_index = row.now.value;
  const auto at = row.peak_ms ? engine.at(row.peak_ms, {row.now.topic, risk::all_regions})
                              : std::vector<risk::reading>{};
  const auto& parts = at.empty() ? row.now.parts : at.front().parts;
  for (const auto& part : parts) t.parts.push_back({part.label, part.points, part.known});
}

// The topics and regions of the period: their messages and hits, with the risk index
// (each topic's (全市) and region's peak within the period) when the engine is ready.
void add_topics_and_regions(const risk::engine* engine, const bf::period& p, const hit_tally& tally,
                            const std::map<std::string, std::string>& names, bf::period_figures& f) {
  std::map<std::string, bf::topic_figures> topics;
  for (const auto& [topic, keys] : tally.topic_messages) {
    auto& t = topics[topic];
    t.topic = topic;
    t.messages = keys.size();
    t.hits = tally.topic_hits.at(topic);
  }
  std::map<std::string, bf::region_figures> regions;
  if (engine) {
    const auto snap = engine->snapshot_of(p.from_ms, p.to_ms);
    for (const auto& row : snap.rows) {
      if (row.now.region == risk::all_regions) {
        if (!topics.count(row.now.topic) && row.peak <= 0) continue;
        set_topic_peak(*engine, row, topics[row.now.topic]);
      } else if (row.peak > 0) {
        auto& r = regions[row.now.region];
        r.region = row.now.region;
        if (row.peak > r.index) {
          r.index = std::round(row.peak * 10) / 10;
          r.topic = row.now.topic;
        }
      }
    }
  }
  for (const auto& [region, keys] : tally.region_messages) {
    auto& r = regions[region];
    r.region = region;
    r.messages = keys.size();
  }
  for (auto& [topic, t] : topics) {
    auto n = names.find(topic);
    if (n != names.end()) t.name = n->second;
    f.topics.push_back(std::move(t));
  }
  for (auto& [region, r] : regions) f.regions.push_back(std::move(r));
}

bf::cluster_figures cluster_of(const mailbox::concentrated_issue& i, const char* kind) {
  bf::cluster_figures c;
  c.id = i.fingerprint;
  c.kind = kind;
  c.topic = i.topic;
  c.text = i.examples.empty() ? i.what : i.examples.front();
  c.count = i.count;
  c.first_ms = i.first_ms;
  c.last_ms = i.last_ms;
  return c;
}

// The mailbox report: figures by unit, concentrated issues and the clusters.
void add_mailbox_report(storage::store& store, const bf::period& p, int64_t generated_ms, bool present,
                        bf::period_figures& f) {
  auto rep = mailbox::build_report(store, p.from_ms, p.to_ms, std::min(p.to_ms, generated_ms));
  if (!rep) {
    spdlog::warn("event=briefing_report_failed error=\"{}\"", rep.error_message());
    return;
  }
  auto& mb = f.mailbox;
  mb.present = present;
  mb.received = rep->total.received;
  mb.on_time = rep->total.on_time;
  mb.late = rep->total.late;
  mb.open = rep->total.open;
  mb.overdue = rep->total.overdue;
  mb.median_reply_hours = rep->total.median_hours();
  for (const auto& [unit, u] : rep->by_unit) mb.units.push_back({unit, u.received, u.on_time, u.late, u.open, u.overdue});
  for (const auto& i : rep->issues) {
    mb.issues.push_back({i.fingerprint, i.by, i.what, i.count, i.previous});
    if (i.by == "text") f.clusters.push_back(cluster_of(i, "mailbox"));
  }
  for (const auto& i : rep->same_text) f.clusters.push_back(cluster_of(i, "same_text"));
}

// Rules with false hits (the analysts' verdicts on the period's hits).
void add_false_hit_rules(storage::store& store, const bf::period& p, bf::period_figures& f) {
  precision::verdict_book book(store);
  precision::precision_query pq;
  pq.from_ms = p.from_ms;
  pq.to_ms = p.to_ms;
  if (auto rep = precision::compute_precision(store, book, pq)) {
    for (const auto& r : rep->rules)
      if (r.false_hits > 0) f.rules.push_back({r.set, r.rule, r.hits, r.judged, r.relevant, r.false_hits});
  }
}

}  // namespace

briefing::input briefing_service::assemble(const bf::period& p) const {
  bf::input in;
  in.p = p;
  in.generated_ms = clk_.now_ms();
  in.opts = options_of(cfg_);
  const bf::period prev = p.previous();
  const auto names = topic_names(src_);
  const bool mailbox = has_mailbox_channel(cfg_);
  const risk::engine* engine = src_.risk && src_.risk->ready() ? &src_.risk->engine() : nullptr;
  count_messages(store_, in);
  auto add_figures = [&](const bf::period& q, bf::period_figures& f) {
    const auto tally = count_hits(store_, engine, q, f);
    count_alerts(store_, q, f);
    add_topics_and_regions(engine, q, tally, names, f);
    add_mailbox_report(store_, q, in.generated_ms, mailbox, f);
    add_false_hit_rules(store_, q, f);
  };
  add_figures(p, in.now);
  add_figures(prev, in.previous);
  return in;
}

}  // namespace yuqing::daemon
