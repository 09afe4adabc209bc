// backtest: what a candidate keyword set would change, measured on the stored messages.
//
// Operation: run_backtest() scans the messages column family page by page, matches each
// message of the period with the candidate set and with the version in force, and counts
// per rule the messages the candidate adds (it hits, the running one does not) and removes,
// keeping a few examples of each with the matched text highlighted; and the alerts each
// version would have raised on those messages (backtest_alerts.h). The scan throttles
// itself to `cpu_share` of one core (measured on the thread's CPU clock; it sleeps for the
// rest), so that it cannot take more than that share from live ingest; backtest_jobs also
// runs it at the lowest scheduling priority.
//
// backtest_jobs: one backtest at a time on its own thread, for the HTTP API; its progress
// and report are kept (the last 20 jobs) until the daemon stops.
//
// Errors: a store error ends the backtest with that error; nothing throws.
// Concurrency: run_backtest() is reentrant. backtest_jobs is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/result.h"
#include "sets/backtest_alerts.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::sets {

struct backtest_request {
  std::shared_ptr<const matchers::compiled_set> candidate;
  std::shared_ptr<const matchers::compiled_set> running;  // null: the set is new
  int64_t since_ms = 0;    // messages whose time is at or after this
  size_t examples = 3;     // kept per rule and direction
  double cpu_share = 0.25;  // of one core, in (0, 1]
};

struct backtest_example {
  std::string message_key;
  int64_t time_ms = 0;
  std::string text;  // excerpt, matched text in 【】
};

struct rule_change {
  std::string rule;
  uint64_t added = 0;    // messages the candidate hits with this rule and the running set does not
  uint64_t removed = 0;  // the other way round
  uint64_t kept = 0;     // messages both hit with this rule
  std::vector<backtest_example> added_examples, removed_examples;
};

struct backtest_report {
  std::string set, candidate_version, running_version;  // running_version empty: new set
  int64_t since_ms = 0;
  uint64_t messages_scanned = 0;    // every stored message read
  uint64_t messages_in_period = 0;  // those matched
  uint64_t hits_running = 0, hits_candidate = 0;
  std::vector<rule_change> rules;   // every rule of either version, by id
  // The alerts each version's alert rules would have raised on the period's messages.
  std::vector<simulated_alert> alerts_running, alerts_candidate;
  double seconds = 0;

  std::string to_json() const;  // the API's form; `yuqingctl backtest` prints it as a table
};

struct backtest_progress {
  uint64_t scanned = 0;
  uint64_t estimated_total = 0;  // RocksDB's estimate
};

// Returns false from `progress` to cancel (the result is then an error "cancelled").
result<backtest_report> run_backtest(const storage::store& store, const backtest_request& req,
                                     const std::function<bool(const backtest_progress&)>& progress);

class backtest_jobs {
 public:
  explicit backtest_jobs(const storage::store& store);
  ~backtest_jobs();  // cancels the running job and waits for it
  backtest_jobs(const backtest_jobs&) = delete;
  backtest_jobs& operator=(const backtest_jobs&) = delete;

  // Starts a job; its id, or an error while another job runs.
  result<std::string> start(backtest_request req, std::string who);
  // A job as JSON: id, state (running | done | failed | cancelled), who, progress, report
  // or error; nullopt for an unknown id.
  std::optional<std::string> get(const std::string& id) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::sets
