// ingest::probe: the metrics of the ingest path (yuqing_messages_*, yuqing_hits_total,
// yuqing_rule_hits_total, batches, lag). Label values come from bounded sets: channel
// names, set ids, topics, decode reasons.
//
// Concurrency: prometheus-cpp metrics are thread-safe; the probe caches label children so
// the per-message path does no map lookup under a lock.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "ingest/decoder.h"
#include "metrics/registry.h"
#include "storage/records.h"

namespace yuqing::ingest {

class probe {
 public:
  probe(metrics::registry& m, const std::vector<config::channel>& channels);

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

}  // namespace yuqing::ingest
