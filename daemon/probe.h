// Metrics. One registry per daemon; one probe per component owns its families, named
// yuqing_<component>_... (STYLE.md habit 12). Label values come from bounded sets: channel
// names, set ids, topics, decode reasons.
//
// Concurrency: prometheus-cpp metrics are thread-safe; a probe caches label children so
// the per-message path does no map lookup under a lock.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "daemon/decoder.h"
#include "storage/records.h"
#include "storage/store.h"

namespace yuqing::daemon {

class metrics {
 public:
  metrics();
  prometheus::Registry& registry() { return *registry_; }
  // Families read afresh at each scrape, on the scraping thread: the process's (CPU,
  // memory, descriptors, start time, from /proc) from the start, then any added (the
  // store's); fn must stay callable as long as this registry is exposed.
  using collector = std::function<std::vector<prometheus::MetricFamily>()>;
  void add_collector(collector fn);
  // Prometheus text exposition of everything registered, then of every collector.
  std::string expose() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::vector<collector> collectors_;
};

// The store's families: yuqing_storage_{sst,memtable}_bytes, _keys and
// _pending_compaction_bytes by column family, yuqing_storage_filesystem_{avail,size}_bytes.
std::vector<prometheus::MetricFamily> storage_families(const storage::store::stats& s);

// The HTTP server's refusals: yuqing_http_refused_total{what="connection"|"event_stream"}.
std::vector<prometheus::MetricFamily> http_families(uint64_t connections, uint64_t event_streams);

// Build info, start time and the keyword sets in force.
class app_probe {
 public:
  app_probe(metrics& m, const std::string& version, int64_t start_time_ms);
  void keyword_sets_loaded(size_t n) { sets_->Set(static_cast<double>(n)); }
  void reload(bool ok) { (ok ? reload_ok_ : reload_failed_)->Increment(); }
  void compiled(double seconds) { compile_seconds_->Observe(seconds); }
  // yuqing_keyword_set_rules{set}, yuqing_keyword_set_loaded_timestamp_seconds{set} and
  // yuqing_keyword_set_version_info{set,version} (1 for the version in force only).
  void set_in_force(const std::string& set, const std::string& version, size_t rules,
                    int64_t loaded_ms);
  void set_removed(const std::string& set);

 private:
  prometheus::Gauge* sets_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_failed_;
  prometheus::Histogram* compile_seconds_;
  prometheus::Family<prometheus::Gauge>* set_rules_;
  prometheus::Family<prometheus::Gauge>* set_loaded_;
  prometheus::Family<prometheus::Gauge>* set_version_;
  struct set_gauges {
    prometheus::Gauge* rules = nullptr;
    prometheus::Gauge* loaded = nullptr;
    prometheus::Gauge* version = nullptr;
    std::string version_label;
  };
  std::mutex mu_;
  std::map<std::string, set_gauges> per_set_;
};

class ingest_probe {
 public:
  ingest_probe(metrics& m, const std::vector<config::channel>& channels);

  struct channel_counters {
    prometheus::Counter* consumed;
    prometheus::Counter* bytes;
    prometheus::Counter* dead_lettered;
    std::map<decode_error, prometheus::Counter*> invalid;
    prometheus::Counter* duplicates;  // an id again with the same text (kept once)
    prometheus::Counter* edited;      // an id again with other text (both versions kept)
    prometheus::Counter* lost;        // offsets skipped (reason offset_gap)
    prometheus::Counter* future_time = nullptr;  // stamped later than the clock allows
  };
  channel_counters& channel(size_t index) { return channels_[index]; }

  // Counts the hits of one stored batch: yuqing_hits_total{set,topic} and
  // yuqing_rule_hits_total{set,rule}, and keeps the latest example of each rule.
  void count_hits(const std::vector<storage::hit_record>& hits);

  // Hits of one rule since start, with its latest example.
  struct rule_count {
    std::string set, rule, topic;
    uint64_t hits = 0;
    std::string example_key;   // message key of the latest example
    std::string example_text;  // the matched text of its first span
    int64_t example_time_ms = 0;
  };
  std::vector<rule_count> rule_counts() const;

  void batch(size_t messages, double write_seconds) {
    batches_->Increment();
    batch_size_->Observe(static_cast<double>(messages));
    write_seconds_->Observe(write_seconds);
  }
  void write_error() { write_errors_->Increment(); }
  // Matching time of one batch and the text bytes it scanned.
  void matched(double seconds, uint64_t bytes) {
    match_seconds_->Observe(seconds);
    bytes_scanned_->Increment(static_cast<double>(bytes));
  }
  void commit_failed() { commit_failures_->Increment(); }
  void paused(bool p) { paused_->Set(p ? 1 : 0); }
  // Message timestamp to stored, for each message of a batch (one histogram update a batch).
  void end_to_end(const std::vector<double>& seconds);
  // Consumer lag of one assigned partition (high watermark - next offset to store).
  // Called from the ingest thread only.
  void lag(const std::string& topic, int32_t partition, int64_t messages);
  // Drops the lag series of every partition (on revocation: they may move elsewhere).
  void forget_lag();

 private:
  struct rule_entry {
    prometheus::Counter* rule = nullptr;
    prometheus::Counter* topic = nullptr;
    uint64_t batch = 0;  // the last batch that updated the example
    rule_count last;
  };
  prometheus::Family<prometheus::Counter>& hits_family_;
  prometheus::Family<prometheus::Counter>& rule_family_;
  std::vector<channel_counters> channels_;
  mutable std::mutex mu_;
  uint64_t batch_seq_ = 0;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> hits_;  // set, topic
  std::unordered_map<std::string, rule_entry> rules_;  // set \0 rule
  prometheus::Counter* batches_;
  prometheus::Histogram* batch_size_;
  prometheus::Histogram* write_seconds_;
  prometheus::Counter* write_errors_;
  prometheus::Histogram* match_seconds_;
  prometheus::Counter* bytes_scanned_;
  prometheus::Counter* commit_failures_;
  prometheus::Gauge* paused_;
  const prometheus::Histogram::BucketBoundaries e2e_bounds_{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};
  prometheus::Histogram* e2e_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  std::map<std::pair<std::string, int32_t>, prometheus::Gauge*> lag_;
};

// Alerting: alerts fired (every known {kind, level} from zero), alerts not closed by duty
// state, time to acknowledge, notifications per sink, hit-to-alert latency.
class alerting_probe {
 public:
  explicit alerting_probe(metrics& m);
  void fired(const std::string& level, const std::string& kind);
  // Replaces the active-alert gauges with these counts by (level, topic, duty state).
  void active(const std::map<std::array<std::string, 3>, int>& counts);
  // From firing to acknowledgement.
  void acknowledged(const std::string& level, double seconds);
  void sent(const std::string& sink) { family_child(sent_, sink).Increment(); }
  void failed(const std::string& sink) { family_child(failed_, sink).Increment(); }
  void latency(double seconds) { latency_->Observe(seconds); }
  void invalid_event() { invalid_->Increment(); }

 private:
  prometheus::Counter& family_child(prometheus::Family<prometheus::Counter>& f, const std::string& sink);
  prometheus::Family<prometheus::Counter>& fired_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Histogram* latency_;
  prometheus::Family<prometheus::Histogram>& to_ack_;
  prometheus::Counter* invalid_;
  std::mutex mu_;
  std::map<std::array<std::string, 3>, prometheus::Gauge*> active_children_;
};

// Mailbox cases: cases by state, open and overdue cases by unit, reply times, case
// alerts, and what text clustering costs.
class mailbox_probe {
 public:
  explicit mailbox_probe(metrics& m);
  // Replaces the case gauges: cases by state, open and overdue by unit, unmatched replies.
  void cases(const std::map<std::string, int64_t>& by_state, const std::map<std::string, int64_t>& open_by_unit,
             const std::map<std::string, int64_t>& overdue_by_unit, int64_t unmatched_replies);
  void replied(double seconds, bool on_time);
  void alert(const std::string& kind);
  void clustered(uint64_t messages, double seconds, size_t tracked);
  // Deadline checks that wait for the replies to be read, by reason (replies_behind,
  // replies_not_assigned).
  void deadline_checks_waiting(const std::map<std::string, int64_t>& by_reason);

 private:
  void set_all(prometheus::Family<prometheus::Gauge>& f, std::map<std::string, prometheus::Gauge*>& children,
               const char* label, const std::map<std::string, int64_t>& values);
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Family<prometheus::Gauge>& open_;
  prometheus::Family<prometheus::Gauge>& overdue_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Family<prometheus::Counter>& replies_;
  prometheus::Histogram* reply_seconds_;
  prometheus::Gauge* unmatched_;
  prometheus::Counter* clustered_;
  prometheus::Counter* cluster_seconds_;
  prometheus::Gauge* tracked_;
  prometheus::Family<prometheus::Gauge>& waiting_;
  std::mutex mu_;
  std::map<std::string, prometheus::Gauge*> state_children_, open_children_, overdue_children_, waiting_children_;
};

}  // namespace yuqing::daemon
