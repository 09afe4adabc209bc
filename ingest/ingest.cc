#include "ingest/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "kafka/kafka.h"
#include "ingest/pipeline.h"

namespace yuqing::ingest {
namespace {

using steady = std::chrono::steady_clock;
using tp_key = std::pair<std::string, int32_t>;  // topic, partition
constexpr size_t max_dead_letter_bytes = 900 * 1000;

}  // namespace

struct service::impl {
  impl(service& owner, const config::daemon_config& c, std::string b, storage::store& s,
       matcher_source m, ingest::probe& p, const clock& k)
      : self(owner), cfg(c), bootstrap(std::move(b)), store(s), matchers(std::move(m)), probe(p),
        clk(k), builder(c) {
    builder.set_stored_lookup([&s](const std::string& key) -> std::optional<storage::message_record> {
      auto m = s.message(key);  // a failed read counts as none: the message is stored as new
      return m ? std::move(*m) : std::nullopt;
    });
  }

  service& self;
  const config::daemon_config& cfg;
  std::string bootstrap;
  storage::store& store;
  matcher_source matchers;
  ingest::probe& probe;
  const clock& clk;
  std::vector<companion*> companions;  // add_companion()
  std::vector<std::set<std::string>> companion_topics;  // each one's followed_topics(), asked once
  std::string cluster_id;  // set_cluster_id(); empty: asked from the brokers at start
  std::function<void(alerting::alert)> raise;  // set_alert_sink()

  kafka::kafka_handle consumer;
  // The outcomes of asynchronous commits come here (not to the consumer queue) so that a
  // revocation can wait for them: work is handed back only after what is committed is known.
  struct queue_deleter {
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  };
  std::unique_ptr<rd_kafka_queue_t, queue_deleter> commit_results;
  int outstanding_commits = 0;
  bool last_commit_ok = true;     // the outcome of the latest commit served
  bool commit_uncertain = false;  // a commit failed in a way that it may still have been applied
  std::unique_ptr<kafka::sync_producer> dead_letters;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;

  batch_builder builder;
  std::vector<rd_kafka_message_t*> pending;
  // Next offset of every assigned partition; RD_KAFKA_OFFSET_INVALID until known (a new
  // partition starts where auto.offset.reset puts it: the first message tells).
  std::map<tp_key, int64_t> positions;
  bool retrying = false;                // a batch is being retried (store or DLQ failing)
  bool paused_and_resumed = false;      // the last store_now paused and sought back
  bool abandoned = false;               // the retried batch was given up on revocation
  std::atomic<bool> paused{false};

  // The next offset expected from each assigned partition (from its position on assignment
  // and after a seek; unknown, < 0, until its first message): a message past it means the
  // messages between were never read (the broker deleted them first, e.g. the embedded
  // broker's few MB per partition flooded).
  struct expectation {
    tp_key tp;
    int channel;
    int64_t next;
    const rd_kafka_topic_t* rkt = nullptr;  // learnt from the first message
    uint64_t lost = 0;                      // since assignment, for the alert's count
  };
  std::vector<expectation> expected;
  std::atomic<uint64_t> lost{0};

  // Offsets known to be committed to Kafka (or where a partition started), and the work
  // stored since, by partition: handed back if the partitions go before it is committed.
  struct stored_range {
    int64_t next_offset;
    std::vector<std::string> message_keys;  // their hits are found again on a hand-back
  };
  std::map<tp_key, int64_t> confirmed;
  std::vector<std::pair<uint64_t, uint64_t>> tally;  // stored(): messages and bytes by channel
  std::vector<double> latencies;                      // build(): end-to-end seconds by message
  std::map<tp_key, std::deque<stored_range>> unconfirmed;
  // Partitions a companion follows: the newest message time stored, and whether the
  // partition is read to its end (as of the last lag update).
  std::set<std::string> followed_topics;
  std::map<tp_key, int64_t> followed_stored_ms;
  std::map<tp_key, bool> at_end;
  std::set<size_t> future_logged;  // channels whose future-stamped message was logged
  uint64_t failed_commits = 0;
  static constexpr size_t max_unconfirmed_batches = 2000;
  bool handback_truncated = false;

  std::atomic<uint64_t> consumed{0}, invalid{0}, dead_lettered{0}, hits{0}, batches{0};

  struct dead_letter {
    const rd_kafka_message_t* msg;
    decode_error reason;
    size_t channel;
  };

  // A batch from its build until it is stored (or given up): owns its Kafka messages.
  struct work {
    std::vector<rd_kafka_message_t*> messages;
    storage::batch b;
    std::vector<dead_letter> dead;
    std::vector<alerting::hit_event> events;  // for the hits topic
    std::vector<std::any> prepared;           // by companion, from prepare()
    std::vector<repeated_id> repeats;         // counted once stored
    bool delivered = false;  // dead letters and hit events confirmed by the brokers
    ~work() {
      for (auto* m : messages) rd_kafka_message_destroy(m);
    }
  };
  std::unique_ptr<work> in_flight;  // being written by `writer`
  std::unique_ptr<batch_writer> writer;

  // ---- rebalance -------------------------------------------------------------------------

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* d = static_cast<impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) d->assign(rk, parts);
    else d->revoke(rk, parts);
  }

  void assign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts) {
    expected.clear();  // eager assignment: `parts` is the whole assignment
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(parts);
    const auto cerr = rd_kafka_committed(rk, committed, 10000);
    std::string summary;
    for (int i = 0; i < parts->cnt; ++i) {
      auto& p = parts->elems[i];
      int64_t offset = RD_KAFKA_OFFSET_INVALID;
      if (cerr == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].offset >= 0)
        offset = committed->elems[i].offset;
      auto local = store.next_offset(p.topic, p.partition);
      if (!local) spdlog::error("event=offset_read_failed error=\"{}\"", local.error_message());
      else if (local->has_value() && **local > offset) offset = **local;
      p.offset = offset;
      positions[{p.topic, p.partition}] = offset;  // < 0: learnt from the first message
      expected.push_back({{p.topic, p.partition}, builder.channel_of(p.topic), offset});
      if (offset >= 0) confirmed[{p.topic, p.partition}] = offset;
      summary += fmt::format("{}{}[{}]@{}", summary.empty() ? "" : ",", p.topic, p.partition,
                             offset >= 0 ? std::to_string(offset) : "reset");
    }
    rd_kafka_topic_partition_list_destroy(committed);
    if (cerr) spdlog::warn("event=committed_offsets_unavailable error=\"{}\"", rd_kafka_err2str(cerr));
    rd_kafka_assign(rk, parts);
    spdlog::info("event=partitions_assigned count={} partitions={}", parts->cnt, summary);
    self.ready_ = true;
  }

  void revoke(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts) {
    if (retrying) {
      abandoned = true;  // the new owner reads these messages again from the committed offset
    } else {
      flush_pending(false);  // no retry loop inside the rebalance callback
    }
    // The next owner starts at the offsets committed to Kafka. If the coordinator refuses
    // this commit (librdkafka's mock cluster does while the group rebalances), hand the
    // work after the committed offsets back so that no hit ends up in two stores. The
    // outcomes of the asynchronous commits sent before are awaited first: handing back
    // work that one of them committed would lose it (the next owner starts after it).
    if (!commit_now()) {
      // Where an outcome is unknown (a lost response), the coordinator is asked; where it
      // cannot tell, nothing is handed back: a duplicate in two stores beats a loss.
      if (!commit_uncertain || learn_committed(rk)) roll_back();
      else spdlog::warn("event=handback_skipped reason=commit_outcome_unknown "
                        "effect=\"the next owner may store some messages a second time\"");
    }
    commit_uncertain = false;
    spdlog::info("event=partitions_revoked count={}", parts->cnt);
    positions.clear();
    confirmed.clear();
    unconfirmed.clear();
    followed_stored_ms.clear();
    at_end.clear();
    tell_progress();
    expected.clear();
    probe.forget_lag();
    paused = false;
    probe.paused(false);
    rd_kafka_assign(rk, nullptr);
  }

  // ---- offsets -----------------------------------------------------------------------------

  // Ties the stored offsets to the cluster they come from: on another cluster (a new
  // embedded one at every start) they are dropped, so its partitions are read from their
  // beginning (or the offsets committed there). A cluster that does not say its id keeps
  // them.
  void bind_cluster() {
    std::string id = cluster_id;
    if (id.empty()) {
      if (char* got = rd_kafka_clusterid(consumer.get(), 10000)) {
        id = got;
        rd_kafka_mem_free(consumer.get(), got);
      }
    }
    if (id.empty()) {
      spdlog::warn("event=kafka_cluster_unknown effect=\"stored offsets are used as they are\"");
      return;
    }
    auto dropped = store.bind_kafka_cluster(id, !cluster_id.empty());
    if (!dropped) spdlog::error("event=kafka_cluster_not_stored error=\"{}\"", dropped.error_message());
    else if (*dropped)
      spdlog::warn("event=kafka_cluster_changed cluster={} effect=\"stored offsets dropped: "
                   "partitions are read from their beginning or their committed offsets\"", id);
  }

  // The assigned partitions with their known positions (known_only: leave out the others).
  rd_kafka_topic_partition_list_t* position_list(bool known_only) const {
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
    for (const auto& [tp, off] : positions)
      if (off >= 0 || !known_only)
        rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = off;
    return list;
  }

  // Commits the known positions; the outcome comes to on_commit through commit_results.
  // False when the commit could not be sent.
  bool commit() {
    auto* list = position_list(true);
    if (list->cnt == 0) {
      rd_kafka_topic_partition_list_destroy(list);
      return true;
    }
    const auto e = rd_kafka_commit_queue(consumer.get(), list, commit_results.get(),
                                         &impl::on_commit, this);
    const bool ok = e == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ok) ++outstanding_commits;
    else commit_outcome(false, e);
    rd_kafka_topic_partition_list_destroy(list);
    return ok;
  }

  // How long to wait for the brokers: `normal`, or at most 3 s once the daemon is stopping,
  // so that a stop with no broker reachable ends while a supervisor still waits (what was
  // not delivered or committed is read again at the next start).
  int broker_wait_ms(int normal) const { return stopping ? std::min(normal, 3000) : normal; }

  // Commits and waits for the outcome of this commit and of every one before it, at most
  // 10 s: a coordinator out of reach must not hold up a revocation or a shutdown (a
  // synchronous commit waits for it without end). True when the commit went through.
  bool commit_now() {
    if (!commit()) return false;
    const auto until = steady::now() + std::chrono::milliseconds(broker_wait_ms(10000));
    while (outstanding_commits > 0 && steady::now() < until)
      rd_kafka_queue_poll_callback(commit_results.get(), 100);
    if (outstanding_commits > 0) {
      commit_uncertain = true;
      return false;
    }
    return last_commit_ok;
  }

  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* offsets, void* opaque) {
    auto* d = static_cast<impl*>(opaque);
    --d->outstanding_commits;
    d->last_commit_ok = !err || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
    if (!d->last_commit_ok) {
      d->commit_outcome(false, err);
      return;
    }
    for (int i = 0; offsets && i < offsets->cnt; ++i) {
      const auto& e = offsets->elems[i];
      if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR) d->confirm({e.topic, e.partition}, e.offset);
    }
    d->commit_outcome(true);
  }

  // One log line when commits start failing and one when they work again (a rebalance
  // refuses every commit until it completes).
  void commit_outcome(bool ok, rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (!ok) {
      // The coordinator's refusals (positive codes) commit nothing; a local error such as a
      // timed-out request may have been applied all the same.
      if (err < 0) commit_uncertain = true;
      probe.commit_failed();
      if (failed_commits++ == 0)
        spdlog::warn("event=kafka_commit_failing error=\"{}\"", rd_kafka_err2str(err));
      return;
    }
    commit_uncertain = false;  // this commit supersedes the ones before
    if (failed_commits > 0) {
      spdlog::info("event=kafka_commit_recovered failed_commits={}", failed_commits);
      failed_commits = 0;
      handback_truncated = false;
    }
  }

  // `next` is committed for `tp`: the stored work before it needs no hand-back.
  void confirm(const tp_key& tp, int64_t next) {
    if (next < 0 || !positions.count(tp)) return;
    auto& c = confirmed[tp];
    c = std::max(c, next);
    auto& q = unconfirmed[tp];
    while (!q.empty() && q.front().next_offset <= c) q.pop_front();
  }

  // Asks the coordinator which offsets are committed and confirms them; false when it
  // cannot tell. The coordinator answers requests in the order they were sent, so every
  // commit sent before is counted.
  bool learn_committed(rd_kafka_t* rk) {
    auto* list = position_list(true);
    const auto err = rd_kafka_committed(rk, list, broker_wait_ms(10000));
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; ok && i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (e.err) ok = false;
      else confirm({e.topic, e.partition}, e.offset);
    }
    rd_kafka_topic_partition_list_destroy(list);
    return ok;
  }

  // Deletes what was stored after the committed offsets and sets the stored offsets back.
  void roll_back() {
    storage::erasure e;
    for (auto& [tp, q] : unconfirmed) {
      if (q.empty()) continue;
      for (auto& r : q)
        e.message_keys.insert(e.message_keys.end(), r.message_keys.begin(), r.message_keys.end());
      e.offsets.push_back({tp.first, tp.second, confirmed[tp]});
    }
    if (e.empty()) return;
    // The hits of those messages and the companions' records (rare work, so nothing is
    // kept per message on the hot path).
    std::vector<storage::message_record> messages;
    for (const auto& key : e.message_keys)
      if (auto m = store.message(key); m && *m) messages.push_back(std::move(**m));
    std::vector<std::function<void()>> after;
    for (auto* c : companions)
      if (auto fn = c->hand_back(messages, e)) after.push_back(std::move(fn));
    for (const auto& key : e.message_keys) {
      storage::hit_query q;
      q.message = key;
      q.limit = std::numeric_limits<size_t>::max();
      auto found = store.hits(q);
      if (!found) {
        spdlog::error("event=handback_failed error=\"{}\"", found.error_message());
        return;
      }
      for (const auto& h : *found) e.hit_keys.push_back(storage::hit_key(h));
    }
    if (auto st = store.erase(e); !st) {
      spdlog::error("event=handback_failed partitions={} error=\"{}\" effect=\"the next owner "
                    "stores these messages again\"", e.offsets.size(), st.error_message());
      return;
    }
    for (auto& fn : after) fn();
    spdlog::warn("event=handback partitions={} messages={} hits={} reason=commit_refused "
                 "effect=\"the next owner reads them from the committed offsets\"",
                 e.offsets.size(), e.message_keys.size(), e.hit_keys.size());
  }

  void set_paused(bool p) {
    if (p == paused || positions.empty()) return;
    auto* list = position_list(false);
    if (p) {
      rd_kafka_pause_partitions(consumer.get(), list);
    } else {
      // Messages fetched while paused were dropped: go back to what is stored.
      auto* known = position_list(true);
      if (known->cnt > 0) {
        if (auto* e = rd_kafka_seek_partitions(consumer.get(), known, 10000))
          spdlog::warn("event=seek_failed error=\"{}\"", rd_kafka_error_string(e)), rd_kafka_error_destroy(e);
      }
      rd_kafka_topic_partition_list_destroy(known);
      for (auto& e : expected) e.next = positions[e.tp];
      rd_kafka_resume_partitions(consumer.get(), list);
    }
    rd_kafka_topic_partition_list_destroy(list);
    paused = p;
    probe.paused(p);
  }

  // ---- batches -----------------------------------------------------------------------------

  void build(work& w) {
    std::vector<raw_message> raw;
    raw.reserve(w.messages.size());
    for (const rd_kafka_message_t* msg : w.messages) {
      raw.push_back({rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset,
                     rd_kafka_message_timestamp(msg, nullptr),
                     std::string_view(static_cast<const char*>(msg->payload), msg->len)});
    }
    std::vector<rejected_message> rejected;
    latencies.clear();
    const auto stats = builder.build(raw, *matchers(), clk.now_ms(), w.b, rejected, &latencies,
                                     cfg.alerting_enabled ? &w.events : nullptr);
    probe.end_to_end(latencies);
    probe.matched(stats.match_seconds, stats.bytes_scanned);
    note_future_times(stats, w.b);
    w.repeats = stats.repeats;
    for (auto* c : companions) w.prepared.push_back(c->prepare(w.b));
    for (const auto& r : rejected) w.dead.push_back({w.messages[r.index], r.reason, r.channel});
  }

  // Messages stamped after the clock (a source's clock or time zone gone wrong): counted
  // per channel, logged once per channel, kept.
  void note_future_times(const build_stats& stats, const storage::batch& b) {
    for (const auto& [ch, index] : stats.future) {
      probe.channel(ch).future_time->Increment();
      if (!future_logged.insert(ch).second) continue;
      const auto& m = b.messages[index];
      spdlog::error("event=message_time_in_future channel={} message={} time={} skew_s={} "
                    "effect=\"kept with its own time; counted in yuqing_messages_future_time_total; "
                    "logged once per channel\"", cfg.channels[ch].name, m.key, common::format_rfc3339(m.time_ms),
                    (m.time_ms - clk.now_ms()) / 1000);
    }
  }

  // Queues the batch's hit events and dead letters for the brokers (no waiting).
  bool produce_all(work& w) {
    for (const auto& e : w.events) {
      if (auto st = dead_letters->produce(cfg.hits_topic, e.topic, e.to_json()); !st) {
        spdlog::error("event=hit_event_failed error=\"{}\"", st.error_message());
        dead_letters->flush(1000);
        return false;
      }
    }
    for (const auto& d : w.dead) {
      const auto& msg = *d.msg;
      // Truncated so that it fits a broker's default message.max.bytes (1 MB): a dead
      // letter the broker refuses would stall ingest.
      const auto len = std::min<size_t>({msg.len, static_cast<size_t>(cfg.max_message_bytes),
                                         max_dead_letter_bytes});
      const std::string topic = rd_kafka_topic_name(msg.rkt);
      auto st = dead_letters->produce(
          cfg.dead_letter_topic,
          std::string_view(static_cast<const char*>(msg.key), msg.key ? msg.key_len : 0),
          std::string_view(static_cast<const char*>(msg.payload), len),
          {{"yuqing.reason", to_string(d.reason)},
           {"yuqing.channel", cfg.channels[d.channel].name},
           {"yuqing.source", topic + "/" + std::to_string(msg.partition) + "/" +
                                 std::to_string(msg.offset)},
           {"yuqing.truncated", len < msg.len ? "true" : "false"}});
      if (!st) {
        spdlog::error("event=dead_letter_failed error=\"{}\"", st.error_message());
        dead_letters->flush(1000);
        return false;
      }
    }
    return true;
  }

  // Waits up to 30 s for the brokers to take everything queued; returns how many failed. A
  // wait of more than 3 s ends when the daemon is stopping (what was not delivered is
  // read again at the next start).
  size_t flush_deliveries() {
    const auto patience = steady::now() + std::chrono::seconds(3);
    return dead_letters->flush(30000, [&] { return stopping && steady::now() > patience; });
  }

  // Waits until the brokers have everything produce_all() queued; false when any failed.
  bool confirm(work& w) {
    if (w.dead.empty() && w.events.empty()) return true;
    if (const size_t failed = flush_deliveries(); failed > 0) {
      spdlog::error("event=delivery_failed undelivered={} dead_letters={} hit_events={} error=\"{}\"",
                    failed, w.dead.size(), w.events.size(), dead_letters->last_error());
      return false;
    }
    for (const auto& d : w.dead) probe.channel(d.channel).dead_lettered->Increment();
    dead_lettered += w.dead.size();
    return true;
  }

  // The batch's dead letters and hit events, confirmed (its offsets may only be stored then).
  bool deliver(work& w) { return produce_all(w) && confirm(w); }

  // Moves the positions past a stored batch and remembers its keys until the offsets are
  // committed (the keys are moved out of the batch, which is not read after).
  void remember_stored(storage::batch& b) {
    std::map<tp_key, stored_range> ranges;
    for (const auto& o : b.offsets) {
      const tp_key tp{o.topic, o.partition};
      if (!positions.count(tp)) continue;
      positions[tp] = o.next_offset;
      ranges[tp].next_offset = o.next_offset;
    }
    for (auto& m : b.messages) {
      auto r = ranges.find({m.source.topic, m.source.partition});
      if (r != ranges.end()) r->second.message_keys.push_back(std::move(m.key));
    }
    for (auto& [tp, r] : ranges) {
      auto& q = unconfirmed[tp];
      q.push_back(std::move(r));
      // Bounded: while the coordinator refuses commits for long, the oldest work stops
      // being handed back (the next owner may then store it a second time).
      if (q.size() > max_unconfirmed_batches) {
        q.pop_front();
        if (!handback_truncated)
          spdlog::warn("event=handback_window_full partition={}[{}] batches={}", tp.first,
                       tp.second, max_unconfirmed_batches);
        handback_truncated = true;
      }
    }
  }

  // A partition without a known position starts at its first message.
  void note_first_offset(const rd_kafka_message_t* msg) {
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR || msg->offset < 0) return;
    auto at = positions.find({rd_kafka_topic_name(msg->rkt), msg->partition});
    if (at != positions.end() && at->second < 0) {
      at->second = msg->offset;
      confirmed[at->first] = msg->offset;
    }
  }

  // Decodes and matches the pending messages and queues their hit events and dead letters
  // while the batch before is still being written; then finishes that batch (its offsets
  // committed) and hands this one to the writer thread once its deliveries are confirmed,
  // so at most one batch is in flight and batches are stored in order. Without may_retry
  // (revocation) everything is stored before returning and a failure gives the batch up
  // at once: its offsets do not move and whoever owns the partitions next reads it again.
  // Returns false when a batch was not stored.
  bool flush_pending(bool may_retry = true) {
    std::unique_ptr<work> w;
    bool produced = false;
    if (!pending.empty()) {
      w = std::make_unique<work>();
      w->messages.swap(pending);
      for (const rd_kafka_message_t* msg : w->messages) note_first_offset(msg);
      build(*w);
      produced = may_retry && produce_all(*w);
    }
    if (!finish_in_flight(may_retry)) {
      // The batch before failed: these messages follow it and are read again (after the
      // seek on resume, or by the next owner); what was produced for them is produced
      // again then (the evaluator counts a message once).
      if (produced) flush_deliveries();
      return false;
    }
    if (!w) return true;
    if (!may_retry) return store_now(*w, false);
    if (!(w->delivered = produced && confirm(*w))) {
      if (stopping) {  // no retries on the way out: the next start reads the batch again
        spdlog::warn("event=batch_abandoned messages={} reason=shutdown", w->messages.size());
        return false;
      }
      return store_now(*w, true);
    }
    in_flight = std::move(w);
    writer->submit(in_flight->b);
    return true;
  }

  // Waits for the batch in flight; true when it is stored (retried here if its write failed).
  bool finish_in_flight(bool may_retry) {
    if (!in_flight) return true;
    auto w = std::move(in_flight);
    double seconds = 0;
    if (const status st = writer->wait(&seconds); st) {
      probe.batch(w->messages.size(), seconds);
      stored(*w);
      return true;
    }
    probe.write_error();
    return store_now(*w, may_retry) && !paused_and_resumed;
  }

  // Stores a batch on this thread: delivers its dead letters if not done, writes it, and
  // with may_retry pauses the partitions and retries with backoff until it succeeds, the
  // partitions are revoked or the daemon stops.
  bool store_now(work& w, bool may_retry) {
    std::chrono::milliseconds backoff(100);
    retrying = false;
    abandoned = false;
    paused_and_resumed = false;
    while (true) {
      const auto t0 = steady::now();
      w.delivered = w.delivered || deliver(w);
      status written = w.delivered ? store.write(w.b)
                                   : status(error{"dead-letter or hit-event delivery failed"});
      if (written) {
        probe.batch(w.messages.size(), std::chrono::duration<double>(steady::now() - t0).count());
        break;
      }
      if (w.delivered) probe.write_error();
      if (!may_retry) {
        spdlog::error("event=batch_abandoned messages={} reason=revoked error=\"{}\"",
                      w.messages.size(), written.error_message());
        return false;
      }
      if (!retrying) {
        spdlog::error("event=batch_failed messages={} action=pause error=\"{}\"",
                      w.messages.size(), written.error_message());
        retrying = true;
        set_paused(true);
      }
      // Keep polling so that the group keeps this member; anything fetched is dropped and
      // read again after the seek on resume.
      const auto until = steady::now() + backoff;
      while (steady::now() < until && !abandoned) {
        if (auto* m = rd_kafka_consumer_poll(consumer.get(), 50)) {
          note_first_offset(m);  // dropped: the seek on resume must come back to it
          rd_kafka_message_destroy(m);
        }
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      if (abandoned || stopping) {
        spdlog::warn("event=batch_abandoned messages={} reason={}", w.messages.size(),
                     abandoned ? "partitions_revoked" : "shutdown");
        retrying = false;
        return false;
      }
    }
    const bool resume = retrying;
    retrying = false;
    stored(w);
    if (resume) {
      spdlog::info("event=batch_recovered messages={} action=resume", w.messages.size());
      set_paused(false);  // seeks to the positions just stored
      paused_and_resumed = true;
    }
    return true;
  }

  // A batch is in the store: positions, counters (moved only now, so a batch given up and
  // read again is not counted twice), Kafka commit.
  void stored(work& w) {
    // Counted per channel, then one increment each (not two atomic adds per message).
    tally.assign(cfg.channels.size(), {0, 0});
    for (const rd_kafka_message_t* msg : w.messages) {
      const int ch = builder.channel_of(rd_kafka_topic_name(msg->rkt));
      if (ch < 0) continue;
      ++tally[static_cast<size_t>(ch)].first;
      tally[static_cast<size_t>(ch)].second += msg->len;
    }
    for (size_t ch = 0; ch < tally.size(); ++ch) {
      if (tally[ch].first == 0) continue;
      auto& counters = probe.channel(ch);
      counters.consumed->Increment(static_cast<double>(tally[ch].first));
      counters.bytes->Increment(static_cast<double>(tally[ch].second));
    }
    for (const auto& m : w.b.messages)
      if (followed_topics.count(m.source.topic)) {
        auto& t = followed_stored_ms[{m.source.topic, m.source.partition}];
        t = std::max(t, m.time_ms);
      }
    // Before remember_stored(), which moves the keys out.
    for (size_t i = 0; i < companions.size(); ++i) companions[i]->stored(w.b, std::move(w.prepared[i]));
    remember_stored(w.b);
    for (const auto& d : w.dead) probe.channel(d.channel).invalid[d.reason]->Increment();
    for (const auto& r : w.repeats) {
      auto& c = probe.channel(r.channel);
      (r.edited ? c.edited : c.duplicates)->Increment();
    }
    invalid += w.dead.size();
    hits += w.b.hits.size();
    consumed += w.messages.size();
    probe.count_hits(w.b.hits);
    tell_progress();
    ++batches;
    commit();
  }

  // How far the followed partitions are read, for each companion that follows some: a
  // partition read to its end holds nothing unread; one behind is read up to the newest
  // message stored from it.
  void tell_progress() {
    for (size_t i = 0; i < companions.size(); ++i) {
      const auto& topics = companion_topics[i];
      auto* c = companions[i];
      if (topics.empty()) continue;
      read_progress p;
      p.read_until_ms = std::numeric_limits<int64_t>::max();
      for (const auto& [tp, next] : positions) {
        if (!topics.count(tp.first)) continue;
        ++p.assigned;
        if (auto e = at_end.find(tp); e != at_end.end() && e->second) continue;
        ++p.behind;
        auto t = followed_stored_ms.find(tp);
        p.read_until_ms = std::min(p.read_until_ms, t == followed_stored_ms.end() ? 0 : t->second);
      }
      c->progress(p);
    }
  }

  // Lag from the high watermarks librdkafka learnt from its last fetches (no broker call).
  // A partition with no position yet is at its end only when it is known to be empty.
  void update_lag() {
    for (const auto& [tp, next] : positions) {
      int64_t low = 0, high = 0;
      const bool known = rd_kafka_get_watermark_offsets(consumer.get(), tp.first.c_str(), tp.second, &low,
                                                        &high) == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0;
      at_end[tp] = known && (next >= 0 ? high - next <= 0 : high == low);
      if (known && next >= 0) probe.lag(tp.first, tp.second, high - next);
    }
    tell_progress();
  }

  // Counts, logs and raises the messages skipped when `msg` comes past the next offset
  // expected from its partition (unless its channel expects gaps).
  void check_gap(const rd_kafka_message_t* msg) {
    expectation* e = nullptr;
    for (auto& x : expected) {
      if (x.tp.second != msg->partition) continue;
      if (!x.rkt && x.tp.first == rd_kafka_topic_name(msg->rkt)) x.rkt = msg->rkt;
      if (x.rkt == msg->rkt) {
        e = &x;
        break;
      }
    }
    if (!e) return;
    if (e->next >= 0 && msg->offset > e->next && e->channel >= 0 &&
        !cfg.channels[static_cast<size_t>(e->channel)].gaps_expected)
      report_loss(*e, msg->offset);
    e->next = msg->offset + 1;
  }

  void report_loss(expectation& e, int64_t offset) {
    const auto n = static_cast<uint64_t>(offset - e.next);
    const auto& ch = cfg.channels[static_cast<size_t>(e.channel)];
    probe.channel(static_cast<size_t>(e.channel)).lost->Increment(static_cast<double>(n));
    lost += n;
    e.lost += n;
    spdlog::error("event=messages_lost channel={} partition={}[{}] from={} to={} count={} "
                  "reason=offset_gap effect=\"never read: the broker no longer had them\"",
                  ch.name, e.tp.first, e.tp.second, e.next, offset - 1, n);
    if (!raise) return;
    alerting::alert a;
    a.fingerprint = "ingest/messages_lost/" + e.tp.first + "/" + std::to_string(e.tp.second);
    a.origin = "ingest";
    a.kind = "messages_lost";
    a.level = alerting::alert_level::orange;
    a.topic = ch.name;
    a.set_id = "ingest";
    a.alert_rule = "messages_lost";
    a.count = e.lost;
    a.first_hit_ms = a.last_hit_ms = clk.now_ms();
    a.labels = {{"channel", ch.name}, {"partition", e.tp.first + "[" + std::to_string(e.tp.second) + "]"},
                {"offsets", std::to_string(e.next) + "-" + std::to_string(offset - 1)}};
    raise(std::move(a));
  }

  void release_pending() {
    for (auto* m : pending) rd_kafka_message_destroy(m);
    pending.clear();
  }

  void run() {
    // The first dead letter or hit event must not wait for its topic's metadata (a second
    // on the embedded broker, all of it in the hit-to-alert latency).
    std::vector<std::string> outputs = {cfg.dead_letter_topic};
    if (cfg.alerting_enabled) outputs.push_back(cfg.hits_topic);
    for (const auto& topic : outputs)
      if (!dead_letters->prepare(topic, 5000))
        spdlog::warn("event=topic_unknown topic={} effect=\"its first message waits for its metadata\"", topic);
    // The clock is read once a turn, after the poll (it was three reads per message).
    auto now = steady::now();
    auto batch_started = now;
    auto lag_updated = now;
    const auto wait = std::chrono::milliseconds(cfg.batch_max_wait_ms);
    while (!stopping) {
      int timeout = 100;
      if (!pending.empty()) {  // (`now` is the last turn's: at most a commit older)
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(batch_started + wait - now);
        timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      if (outstanding_commits > 0) rd_kafka_queue_poll_callback(commit_results.get(), 0);
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), timeout);
      now = steady::now();
      if (m) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          check_gap(m);
          if (pending.empty()) batch_started = now;
          pending.push_back(m);
        } else {
          if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            spdlog::warn("event=consume_error error=\"{}\"", rd_kafka_message_errstr(m));
          rd_kafka_message_destroy(m);
        }
      }
      if (!pending.empty() &&
          (pending.size() >= static_cast<size_t>(cfg.batch_max_messages) || now - batch_started >= wait)) {
        flush_pending();
      }
      // A written batch is finished (offsets committed, counters moved) without waiting
      // for the next one to fill.
      if (in_flight && writer->done() && !finish_in_flight(true)) release_pending();
      if (now - lag_updated >= std::chrono::seconds(1)) {
        update_lag();
        lag_updated = now;
      }
    }
    flush_pending();
    finish_in_flight(true);
    kafka::close_consumer(consumer.get(), 10000, &impl::on_rebalance, this);  // the revocation commits
  }
};

service::service(const config::daemon_config& cfg, std::string bootstrap, storage::store& store,
               matcher_source matchers, ingest::probe& probe, const clock& clk)
    : impl_(std::make_unique<impl>(*this, cfg, std::move(bootstrap), store, std::move(matchers),
                                   probe, clk)) {}

service::~service() { stop(); }

void service::add_companion(companion& c) {
  impl_->companions.push_back(&c);
  impl_->companion_topics.push_back(c.followed_topics());
  for (const auto& t : impl_->companion_topics.back()) impl_->followed_topics.insert(t);
}
void service::set_cluster_id(std::string id) { impl_->cluster_id = std::move(id); }

void service::set_alert_sink(std::function<void(alerting::alert)> raise) {
  impl_->raise = std::move(raise);
}

status service::start() {
  auto& d = *impl_;
  auto producer = kafka::sync_producer::create(d.bootstrap, d.cfg.kafka_properties);
  if (!producer) return error{producer.error_message()};
  d.dead_letters = std::move(producer.value());
  d.writer = std::make_unique<batch_writer>(d.store);

  kafka::consumer_options co;
  co.group_id = d.cfg.kafka_group_id;
  for (const auto& ch : d.cfg.channels) co.topics.push_back(ch.topic);
  co.opaque = impl_.get();
  co.rebalance = &impl::on_rebalance;
  auto consumer = kafka::make_group_consumer(d.bootstrap, d.cfg.kafka_properties, co);
  if (!consumer) return error{consumer.error_message()};
  d.consumer = std::move(consumer.value());
  d.commit_results.reset(rd_kafka_queue_new(d.consumer.get()));
  d.bind_cluster();
  d.started = true;
  d.thread = std::thread([&d] { d.run(); });
  return ok_status();
}

void service::stop() {
  auto& d = *impl_;
  if (!d.started) return;
  d.started = false;
  d.stopping = true;
  if (d.thread.joinable()) d.thread.join();
  d.in_flight.reset();  // its messages go before the consumer
  d.writer.reset();
  d.commit_results.reset();
  d.consumer.reset();
  d.dead_letters.reset();
}

ingest_counters service::counters() const {
  const auto& d = *impl_;
  return {d.consumed.load(), d.invalid.load(), d.dead_lettered.load(), d.hits.load(),
          d.batches.load(), d.paused.load(), d.lost.load()};
}

}  // namespace yuqing::ingest
