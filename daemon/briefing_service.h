// briefing_service: the daemon's side of briefing/ (issue 24 item 4): assembles the
// figures of a period from what the daemon has, makes the 舆情简报, keeps each in the store
// and pushes it to the configured webhooks, on a schedule and on demand.
//
// Operation: make(period) reads, for the period and the one before, the stored messages
// (count and per hour or day), the hits (per topic and region), the alerts (placed by
// their first hit's message time), the mailbox report (cases, units, concentrated issues,
// clusters), the verdicts (rules with false hits) and the risk engine's snapshot (each topic's and region's peak index, its
// level and parts); builds the briefing (briefing::build) and its renderings; writes them
// to column family `briefings` (key: the id, "daily-2022-11-21"; a briefing made again for
// the same period replaces the one before); and queues its pushes. The service's thread
// wakes every second: at briefing.daily_at (local time, mailbox.utc_offset_minutes) it makes
// the day before's briefing, on Mondays at briefing.weekly_at the week before's, once each
// (a briefing already in the store is not made again, so a restart makes none twice); then
// it sends what is queued. A push that fails (connection error or a status other than 2xx)
// is logged once per briefing and receiver, counted in
// yuqing_briefing_push_failures_total{kind}, and retried with the next scheduled briefing.
//
// Concurrency: make(), list() and get() from any thread (the HTTP thread: make() reads the
// store for a few seconds at most on the retention of a week of messages); pushes only on
// the service's thread, never on ingest's. One mutex guards the queue.
// Limitations: with several daemons, each makes the briefing of what it consumed (as the
// risk index and the mailbox); plain http webhooks only (put a TLS proxy in front); a
// briefing due when the daemon starts is made at once, from what is stored by then (a
// backlog read later is not in it: make it again with POST /api/v1/briefings).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "briefing/briefing.h"
#include "config/clock.h"
#include "config/config.h"
#include "config/result.h"
#include "storage/store.h"

namespace yuqing::matchers {
class matcher;
}
namespace yuqing::http {
class http_server;
}

namespace yuqing::daemon {

class risk_service;

// What the service reads besides the store and the configuration; each may be empty.
struct briefing_sources {
  const risk_service* risk = nullptr;  // the index (not ready: the topics come from the hits alone)
  // The keyword sets in force: a topic's Chinese name is its first set's name.
  std::function<std::shared_ptr<const matchers::matcher>()> sets;
};

// A briefing as kept: its renderings and where it was delivered.
struct stored_briefing {
  std::string id, kind, title;
  int64_t from_ms = 0, to_ms = 0, generated_ms = 0;
  std::string trigger;  // schedule, api (with the person), ctl
  std::string markdown, html, json;
  // receiver ("kind url") -> "ok" or the last error
  std::map<std::string, std::string> deliveries;
  std::string encode() const;
  static std::optional<stored_briefing> decode(std::string_view text);
  // The list entry: everything but the renderings (times in the offset given).
  std::string summary_json(int utc_offset_minutes) const;
};

class briefing_service {
 public:
  briefing_service(const config::daemon_config& cfg, storage::store& store, const clock& clk, briefing_sources src,
                   prometheus::Registry& registry);
  ~briefing_service();
  briefing_service(const briefing_service&) = delete;
  briefing_service& operator=(const briefing_service&) = delete;

  // Starts the schedule thread; stop() joins it (also the destructor).
  status start();
  void stop();

  // Makes (or makes again) the briefing of `p`, stores it and queues its pushes.
  result<stored_briefing> make(const briefing::period& p, const std::string& trigger);
  // The figures of `p` and of the period before, as make() reads them.
  briefing::input assemble(const briefing::period& p) const;
  // Stored briefings, newest period first, at most `limit`.
  result<std::vector<stored_briefing>> list(size_t limit) const;
  result<std::optional<stored_briefing>> get(const std::string& id) const;

  // One round of the schedule and the pushes (the thread calls it every second).
  void tick();
  int utc_offset_minutes() const { return cfg_.mailbox_utc_offset_minutes; }

 private:
  void due(const briefing::period& p);  // makes p unless stored
  void push_pending();
  void deliver(stored_briefing& b);
  const config::daemon_config& cfg_;
  storage::store& store_;
  const clock& clk_;
  briefing_sources src_;
  prometheus::Family<prometheus::Counter>& made_family_;
  prometheus::Family<prometheus::Counter>& pushed_family_;
  prometheus::Family<prometheus::Counter>& failed_family_;

  std::mutex mu_;
  std::set<std::string> pending_;  // ids with a delivery to make
  std::set<std::string> checked_;  // scheduled ids known to be stored
  std::set<std::string> logged_;   // "id receiver" failures already logged
  bool retry_ = false;             // a scheduled briefing was made: retry failed pushes
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// GET /api/v1/briefings, GET /api/v1/briefings/{id}?format=md|html|json, POST
// /api/v1/briefings {kind, date} (analyst or admin token). daemon/routes_briefing.cc.
void add_briefing_routes(http::http_server& http, briefing_service& svc);

}  // namespace yuqing::daemon
