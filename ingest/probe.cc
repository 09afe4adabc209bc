#include "ingest/probe.h"

#include <algorithm>

namespace yuqing::ingest {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

probe::probe(metrics::registry& m, const std::vector<config::channel>& channels)
    : hits_family_(BuildCounter().Name("yuqing_hits_total")
                       .Help("Hits (a rule of a keyword set matching a message), by set and policy topic")
                       .Register(m.prometheus_registry())),
      rule_family_(BuildCounter().Name("yuqing_rule_hits_total")
                       .Help("Hits by keyword set and rule (find the noisy rules)")
                       .Register(m.prometheus_registry())),
      lag_family_(BuildGauge().Name("yuqing_consumer_lag_messages")
                      .Help("Messages in an assigned partition not yet stored (high watermark "
                            "minus next offset); series removed when the partition is revoked")
                      .Register(m.prometheus_registry())) {
  auto& r = m.prometheus_registry();
  auto& consumed = BuildCounter().Name("yuqing_messages_consumed_total")
                       .Help("Kafka messages consumed, by channel").Register(r);
  auto& bytes = BuildCounter().Name("yuqing_message_bytes_total")
                    .Help("Payload bytes consumed, by channel").Register(r);
  auto& invalid = BuildCounter().Name("yuqing_messages_invalid_total")
                      .Help("Messages that could not be decoded, by channel and reason")
                      .Register(r);
  auto& dead = BuildCounter().Name("yuqing_dead_letters_total")
                   .Help("Messages delivered to the dead-letter topic, by channel").Register(r);
  auto& future = BuildCounter().Name("yuqing_messages_future_time_total")
                     .Help("Messages whose time is further after the daemon's clock than "
                           "ingest.max_clock_skew_seconds (kept, with their own time), by channel")
                     .Register(r);
  auto& repeated = BuildCounter().Name("yuqing_messages_repeated_total")
                       .Help("Messages whose id was stored before from another offset, by channel "
                             "and kind (duplicate: same text, kept once; edited: other text, kept "
                             "as a second version)")
                       .Register(r);
  auto& lost = BuildCounter().Name("yuqing_messages_lost_total")
                   .Help("Messages never read: a partition's offset jumped past the next one "
                         "expected (the broker deleted them first), by channel and reason")
                   .Register(r);
  for (const auto& ch : channels) {
    channel_counters c{&consumed.Add({{"channel", ch.name}}), &bytes.Add({{"channel", ch.name}}),
                       &dead.Add({{"channel", ch.name}}), {},
                       &repeated.Add({{"channel", ch.name}, {"kind", "duplicate"}}),
                       &repeated.Add({{"channel", ch.name}, {"kind", "edited"}}),
                       &lost.Add({{"channel", ch.name}, {"reason", "offset_gap"}})};
    for (auto e : all_decode_errors)
      c.invalid[e] = &invalid.Add({{"channel", ch.name}, {"reason", to_string(e)}});
    c.future_time = &future.Add({{"channel", ch.name}});
    channels_.push_back(std::move(c));
  }
  batches_ = &BuildCounter().Name("yuqing_ingest_batches_total")
                  .Help("Batches written to the store").Register(r).Add({});
  batch_size_ = &BuildHistogram().Name("yuqing_ingest_batch_messages")
                     .Help("Messages per batch").Register(r)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 500, 1000, 5000, 20000});
  write_seconds_ = &BuildHistogram().Name("yuqing_storage_write_seconds")
                        .Help("Time to write and sync one batch").Register(r)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  match_seconds_ = &BuildHistogram().Name("yuqing_match_batch_seconds")
                        .Help("Time spent matching (normalize and scan) the messages of one batch")
                        .Register(r)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  bytes_scanned_ = &BuildCounter().Name("yuqing_match_bytes_scanned_total")
                        .Help("Text bytes matched against the keyword sets").Register(r).Add({});
  write_errors_ = &BuildCounter().Name("yuqing_storage_write_errors_total")
                       .Help("Failed batch writes (the batch is retried)").Register(r).Add({});
  commit_failures_ = &BuildCounter().Name("yuqing_kafka_commit_failures_total")
                          .Help("Offset commits to Kafka that failed (offsets of record stay in "
                                "the store; Kafka's are for lag views and hand-over)")
                          .Register(r).Add({});
  paused_ = &BuildGauge().Name("yuqing_ingest_paused")
                 .Help("1 while consumption is paused because the store or the dead-letter "
                       "topic fails").Register(r).Add({});
  e2e_ = &BuildHistogram().Name("yuqing_ingest_end_to_end_seconds")
              .Help("Kafka message timestamp to stored").Register(r)
              .Add({}, e2e_bounds_);
}

void probe::end_to_end(const std::vector<double>& seconds) {
  if (seconds.empty()) return;
  std::vector<double> counts(e2e_bounds_.size() + 1, 0);  // the last: above every bound
  double sum = 0;
  for (const double s : seconds) {
    const auto at = std::lower_bound(e2e_bounds_.begin(), e2e_bounds_.end(), s);  // le: s <= bound
    counts[static_cast<size_t>(at - e2e_bounds_.begin())] += 1;
    sum += s;
  }
  e2e_->ObserveMultiple(counts, sum);
}

void probe::count_hits(const std::vector<storage::hit_record>& hits) {
  std::lock_guard lock(mu_);
  ++batch_seq_;
  std::string key;
  for (const auto& h : hits) {
    key.assign(h.set_id).append(1, '\0').append(h.rule_id);
    auto& e = rules_[key];
    if (!e.rule) {
      e.rule = &rule_family_.Add({{"set", h.set_id}, {"rule", h.rule_id}});
      auto& topic = hits_[{h.set_id, h.topic}];
      if (!topic) topic = &hits_family_.Add({{"set", h.set_id}, {"topic", h.topic}});
      e.topic = topic;
      e.last.set = h.set_id;
      e.last.rule = h.rule_id;
      e.last.topic = h.topic;
    }
    e.rule->Increment();
    e.topic->Increment();
    if (e.batch != batch_seq_) {  // one example per rule and batch
      e.batch = batch_seq_;
      e.last.example_key = h.message_key;
      e.last.example_text = h.spans.empty() ? "" : h.spans.front().text;
      e.last.example_time_ms = h.time_ms;
    }
  }
}

std::vector<probe::rule_count> probe::rule_counts() const {
  std::lock_guard lock(mu_);
  std::vector<rule_count> out;
  for (const auto& [key, e] : rules_) {
    out.push_back(e.last);
    out.back().hits = static_cast<uint64_t>(e.rule->Value());
  }
  return out;
}

void probe::lag(const std::string& topic, int32_t partition, int64_t messages) {
  auto& slot = lag_[{topic, partition}];
  if (!slot) slot = &lag_family_.Add({{"topic", topic}, {"partition", std::to_string(partition)}});
  slot->Set(static_cast<double>(std::max<int64_t>(0, messages)));
}

void probe::forget_lag() {
  for (auto& [tp, g] : lag_) lag_family_.Remove(g);
  lag_.clear();
}

}  // namespace yuqing::ingest
