// mailbox: the governor's-mailbox cases of this daemon (plan item 11).
//
// Operation: ingest hands every built batch to prepare(), which adds to the same RocksDB
// batch the opening of a case for each message of a `mailbox` channel (category, region,
// the sets, topics and rules it hit, the responsible units from the plan, the reply
// deadline from the category and the working-day calendar), the reply for each message of
// a `mailbox-reply` channel, and the text-clustering members — so they are stored exactly
// when the batch's offsets are. Once the batch is stored, stored() moves the cases in
// memory on, one message at a time in the order of the stream, so that the outcome does
// not depend on where batches start and end: a reply closes its case (or waits for its
// message), each mailbox message is counted per topic and category and the windows ending
// at its time are evaluated, each clustered message joins its text cluster, and
// concentrated issues raise or resolve their alerts. A cluster that holds a mailbox message
// is a mailbox concentrated issue (plan item 11); a cluster of posts and news only is a
// 同文多发 issue (copied or coordinated posting, plan item 12) on its own policy topic;
// messages of the configured official sources (reposts of official news) are not clustered.
//
// Deadlines follow the replies as read, not the wall clock alone: a case is declared
// overdue only once every reply partition has been read past its deadline (or is read to
// its end), and due soon only while the replies are read to their end, so that a backlog
// read after an outage raises nothing for cases answered on time; a reply that comes after
// the deadline raises the case's one overdue alert if it was not raised yet. A thread ticks
// every second: due_soon and overdue alerts, once per case (a marker in the store
// remembers it across restarts), and the metrics.
//
// Several daemons: mailbox messages and replies are keyed by message id, so a case and its
// reply land on the same partition number of their topics; with the range assignor both
// go to the same instance, whose store keeps the case. Each instance reports the cases of
// the partitions it consumed.
//
// Threads: prepare() and stored() from the ingest thread; the query functions from any
// thread; one mutex guards the state in memory. Errors: a store failure while ticking is
// logged and retried at the next tick.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alerting/alert.h"
#include "config/clock.h"
#include "config/config.h"
#include "config/plan.h"
#include "mailbox/calendar.h"
#include "mailbox/cases.h"
#include "mailbox/clusters.h"
#include "ingest/companion.h"
#include "mailbox/probe.h"
#include "storage/store.h"

namespace yuqing::mailbox {

// What a batch changes, kept from prepare() until the batch is stored.
struct mailbox_changes {
  std::vector<mailbox_case> openings;
  std::vector<std::pair<std::string, case_reply>> replies;  // case id, reply
  std::vector<clusterer::member> members;
  double clustering_seconds = 0;
  bool empty() const { return openings.empty() && replies.empty() && members.empty(); }
};

// How far the mailbox-reply channels have been read (ingest tells after each batch and
// each lag update).
struct reply_progress {
  bool channels = false;      // false: no mailbox-reply channel is configured
  size_t assigned = 0;        // reply partitions assigned to this daemon
  size_t behind = 0;          // ... of which not read to their end
  int64_t read_until_ms = 0;  // every reply stamped up to here has been read
};

// Where case alerts go (the alerting service, or the log when alerting is off).
struct case_alert_sink {
  std::function<void(alerting::alert)> raise;
  // False when the alert was not known (yet): resolving is tried again later.
  std::function<bool(const std::string& fingerprint, const std::string& note)> resolve;
};

struct case_query {
  std::string state;  // open, overdue, closed, reply_only; empty: every case
  std::string unit;   // a responsible unit; empty: any
  size_t limit = 1000;
};

// Cases in the store, newest first (offline too: yuqingctl --db).
result<std::vector<mailbox_case>> list_cases(const storage::store& store, const case_query& q, int64_t now_ms);
// The report of the cases received in [from_ms, to_ms), states as of at_ms; progress(done,
// estimated total) is called every 500 cases read.
result<case_report> build_report(const storage::store& store, int64_t from_ms, int64_t to_ms, int64_t at_ms,
                                 const std::function<void(uint64_t, uint64_t)>& progress = {});

class service final : public ingest::companion {
 public:
  service(const config::daemon_config& cfg, storage::store& store, calendar cal,
          std::shared_ptr<const config::plan> plan, mailbox::probe& probe, const clock& clk);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Reads the cases and cluster members back from the store, then starts ticking.
  status start(case_alert_sink sink);
  void stop();

  // Ingest thread: adds the batch's mailbox records to `b` (b.owned).
  mailbox_changes changes(storage::batch& b);
  // Ingest thread: the batch that changes() filled is stored.
  void apply(mailbox_changes changes);

  // Ingest thread: how far the replies have been read.
  void replies_read(const reply_progress& p);

  // Ingest thread: these cases were handed back with their partitions (another instance
  // stores them): no longer followed here.
  void forget(const std::vector<std::string>& case_ids);

  // ingest::companion: the calls above, as ingest makes them. The followed topics are
  // those of the mailbox-reply channels.
  std::any prepare(storage::batch& b) override { return changes(b); }
  void stored(const storage::batch&, std::any prepared) override {
    apply(std::any_cast<mailbox_changes>(std::move(prepared)));
  }
  std::set<std::string> followed_topics() const override;
  void progress(const ingest::read_progress& p) override;
  std::function<void()> hand_back(const std::vector<storage::message_record>& messages,
                                  storage::erasure& e) override;

  // One tick (the thread calls it every second; tests call it with an injected clock).
  void tick();

  const calendar& cal() const { return calendar_; }
  size_t open_cases() const;

 private:
  struct counted {  // a mailbox message in a topic's or category's series
    int64_t time_ms;
    std::string key, excerpt;
    bool operator<(const counted& o) const { return time_ms != o.time_ms ? time_ms < o.time_ms : key < o.key; }
  };
  using series_key = std::pair<std::string, std::string>;  // by (topic, category), what
  struct active_issue {
    concentrated_issue issue;
    uint64_t cluster = 0;      // text issues
    int64_t evaluated_ms = 0;  // count issues: end of the window its figures are of
  };
  // What one stored() call changed, written and announced once at its end.
  struct batch_effects {
    std::map<std::string, std::string> writes;  // mailbox records
    std::set<std::string> updated;              // active issues whose figures changed
  };
  // `reply`: the case's reply when it came in the same batch.
  void apply_opening(mailbox_case c, std::optional<case_reply> reply, batch_effects& fx);
  void apply_reply(const std::string& id, const case_reply& r);
  // Adds a mailbox message to its category's and topics' series; false when it was there.
  bool add_counted(const mailbox_case& c);
  void prune_series();  // drops what is older than two periods before the latest message
  void count_message(const mailbox_case& c, batch_effects& fx);
  void check_counts(const series_key& s, int64_t t, bool may_resolve, batch_effects& fx);
  void cluster_member(clusterer::member m, batch_effects& fx);
  void check_cluster(uint64_t cluster, bool same_text, batch_effects& fx);
  void fill_cluster_issue(active_issue& a);  // figures, members and examples from its cluster
  bool official(const storage::message_record& m) const;
  void raise_issue(active_issue& a, bool fresh, batch_effects& fx);
  void resolve_issue(const std::string& fingerprint, const std::string& why, batch_effects& fx);
  void resolve_later(const std::string& fingerprint, const std::string& note);
  alerting::alert case_alert(const mailbox_case& c, const std::string& kind) const;
  alerting::alert issue_alert(const concentrated_issue& i) const;
  // Raises a case's alert of `kind` once (its marker is written first); false when the
  // marker could not be stored.
  bool raise_case_alert(mailbox_case& c, const std::string& kind);
  void announce_case_alert(mailbox_case& c, const std::string& kind);  // its marker is stored
  // Why deadline checks wait now ("" when they need not): reply channels not assigned, or
  // behind the time to be decided.
  std::string replies_wait_reason(int64_t until_ms) const;
  std::vector<std::string> units_of(const std::vector<int>& plan_items) const;
  void update_metrics();

  const config::daemon_config& cfg_;
  storage::store& store_;
  calendar calendar_;
  std::shared_ptr<const config::plan> plan_;
  mailbox::probe& probe_;
  const clock& clk_;
  deadline_policy deadlines_;
  case_alert_sink sink_;

  mutable std::mutex mu_;
  std::map<std::string, mailbox_case> waiting_;        // opened, not replied
  std::map<std::string, case_reply> early_replies_;    // replied, message not known yet
  uint64_t closed_ = 0;
  std::map<series_key, std::vector<counted>> series_;  // sorted by time; two periods kept
  int64_t latest_ms_ = 0;                              // latest mailbox message time
  reply_progress replies_;                             // as ingest last told
  std::map<std::string, int64_t> waiting_checks_;      // deadline checks waiting, by reason
  clusterer clusters_;
  int64_t latest_member_ms_ = 0;
  int64_t members_pruned_ms_ = 0;                      // when old members were last deleted
  std::map<std::string, active_issue> issues_;         // active concentrated issues by fingerprint
  std::map<std::string, std::pair<std::string, int64_t>> to_resolve_;  // fingerprint -> note, since
  std::set<int> missing_years_logged_;

  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

}  // namespace yuqing::mailbox
