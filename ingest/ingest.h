// ingest: the path Kafka -> decode -> match -> RocksDB -> offsets.
//
// Operation: one thread polls the consumer group (rd_kafka_consumer_poll; librdkafka
// 2.0.2's batch APIs can lose messages around pause/rebalance) and gathers a batch of at
// most ingest.batch_max_messages or ingest.batch_max_wait_ms. Each batch is decoded and
// matched against the matcher in force when the batch started; undecodable messages go to
// the dead-letter topic and each matched message (per set) to the hits topic (alerting),
// all confirmed delivered before the batch is stored; then the hits, the messages and
// the next offset of every partition are written in one synced RocksDB batch, on a writer
// thread while the next batch is decoded and matched (at most one batch in flight); only
// once a batch is stored are its offsets committed to Kafka (for lag views and hand-over).
// If a revoked partition's final commit is refused, the work stored after the committed
// offset is deleted again (handed back) so the next owner stores it once; what is
// committed is known by waiting for the outcome of every commit sent before (an earlier
// one that went through unseen must not be handed back: the next owner starts after it),
// or, where an outcome is lost, by asking the coordinator. On assignment a partition
// resumes at the larger of the offset stored in RocksDB and the one committed to Kafka;
// the stored offsets are tied to the cluster's id and dropped on another cluster.
// Partition assignment is eager (range/roundrobin): on revocation the pending batch is
// written and committed before the partitions go. Every wait for the brokers is bounded
// (commits and the group's close 10 s each, 3 s once stopping; a batch whose hit events or
// dead letters cannot be delivered on the way out is given up and read again at the next
// start), so a stop or a revocation finishes while no broker can be reached.
//
// When the store or the dead-letter topic fails, the assigned partitions are paused (the
// loop keeps polling so the group keeps the member), the batch is retried with backoff,
// and on success the partitions seek back to the stored positions and resume.
//
// Losses: a partition's offset that jumps past the next one expected (the broker deleted
// messages before they were read) is counted (yuqing_messages_lost_total), logged as an
// error and raised as an alert, unless the channel says offset_gaps: expected (compacted
// topics, transactional producers). A message id seen before is told apart as a replay, a
// duplicate or an edit (ingest/pipeline.h: batch_builder::set_stored_lookup).
//
// Concurrency: start() and stop() from one controlling thread; counters() from any
// thread. The matcher is read through matcher_source at each batch start, so a reload
// takes effect between batches.
//
// Limitations: one consuming thread (and one writer) per daemon; scale out with more
// daemons in the group.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "alerting/alert.h"
#include "config/clock.h"
#include "config/config.h"
#include "ingest/companion.h"
#include "ingest/probe.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::ingest {


using matchers::matcher_source;

struct ingest_counters {
  uint64_t consumed = 0;
  uint64_t invalid = 0;
  uint64_t dead_lettered = 0;
  uint64_t hits = 0;
  uint64_t batches = 0;
  bool paused = false;
  uint64_t lost = 0;  // messages skipped by offset gaps
};

class service {
 public:
  service(const config::daemon_config& cfg, std::string bootstrap, storage::store& store,
         matcher_source matchers, ingest::probe& probe, const clock& clk);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // A component that rides along with the batches (ingest/companion.h: the mailbox cases,
  // the risk index), called in the order added. Before start(); c must outlive the service.
  void add_companion(companion& c);
  // The id of a cluster new at this start (the embedded one): offsets stored before are
  // all dropped. Unset, the id is asked from the brokers at start(). Before start().
  void set_cluster_id(std::string id);
  // Where a loss alert goes (called on the ingest thread; before start(); unset: the loss
  // is only counted and logged).
  void set_alert_sink(std::function<void(alerting::alert)> raise);

  // Creates the consumer and the dead-letter producer, subscribes, starts the thread.
  status start();
  // Stops polling, writes and commits the pending batch, leaves the group. Idempotent.
  void stop();

  ingest_counters counters() const;
  // True once the group has assigned partitions (or assigned none) at least once.
  bool ready() const { return ready_.load(); }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::atomic<bool> ready_{false};
};

}  // namespace yuqing::ingest
