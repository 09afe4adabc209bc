// pipeline: the work of one batch between Kafka and the store, without Kafka: decode each
// message with its channel's mapping, match it, and gather the hits, the messages and the
// next offset of every partition into one storage::batch. ingest feeds it Kafka messages;
// the pipeline benchmark feeds it from memory, so both measure the same code.
//
// Threads: one batch_builder per thread (it owns simdjson parsers). The matcher is shared.
// Errors: an undecodable message is reported in `rejected` with its reason and left out of
// the batch (its offset still counts: the caller dead-letters it first).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "ingest/decoder.h"
#include "alerting/alert.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::ingest {

struct raw_message {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // Kafka timestamp; < 0: none
  std::string_view payload;
};

struct rejected_message {
  size_t index;  // into the messages passed to build()
  size_t channel;
  decode_error reason;
};

// A message whose id was seen before at another position (see set_stored_lookup).
struct repeated_id {
  size_t channel;
  bool edited;  // other text: kept as a second version; else a duplicate
};

// What one build() spent matching, and the repeated ids it found.
struct build_stats {
  double match_seconds = 0;   // the batch's matching pass (matcher::match on each message)
  uint64_t bytes_scanned = 0;  // text bytes matched
  // Decoded messages stamped more than ingest.max_clock_skew_seconds after now_ms (a data
  // error: they are kept with their own time), as (channel, message index in the batch).
  std::vector<std::pair<size_t, size_t>> future;
  std::vector<repeated_id> repeats;
};

// The stored message under a key, if any (for repeated ids).
using stored_lookup = std::function<std::optional<storage::message_record>(const std::string& key)>;

class batch_builder {
 public:
  // `cfg` must outlive the builder (its decoders keep references to the channels).
  explicit batch_builder(const config::daemon_config& cfg);

  // Index of the channel reading `topic`, or -1.
  int channel_of(std::string_view topic) const;

  // Messages with an id are looked up by key: in this batch, in the one built before (it
  // may still be being written) and through `lookup` (the store). At the same Kafka
  // position it is a replay (same key, nothing counted); the same text elsewhere is a
  // duplicate (counted, left out of the batch: no second set of hits); other text is an
  // edit, kept beside the first version under "<key>~<partition>:<offset>" (counted), the
  // key a replay of it gets again. Later versions are compared with the first one kept.
  // Without a lookup (benchmarks) ids are not checked.
  void set_stored_lookup(stored_lookup lookup) { lookup_ = std::move(lookup); }

  // Appends to `out` and `rejected`. `now_ms` stands in for a missing Kafka timestamp;
  // `latency_seconds`, when set, gets (now - Kafka timestamp) of every decoded message
  // appended. With `events`, one hit event per matched message and set is appended (for the
  // hits topic).
  build_stats build(const std::vector<raw_message>& messages, const matchers::matcher& m, int64_t now_ms,
                    storage::batch& out, std::vector<rejected_message>& rejected,
                    std::vector<double>* latency_seconds = nullptr,
                    std::vector<alerting::hit_event>* events = nullptr);

 private:
  std::map<std::string, size_t, std::less<>> channel_of_;
  int64_t max_skew_ms_;
  std::vector<decoder> decoders_;
  std::vector<matchers::hit> found_all_;  // the batch's hits, by message
  std::vector<size_t> found_end_;         // end of each decoded message's hits in found_all_
  std::vector<std::string_view> fields_;  // every decoded message's text fields, in order
  std::vector<size_t> field_begin_;       // where each message's fields start in fields_

  // The passes of build(): decode the messages into out.messages (from index `first`) and
  // their offsets; match them; append their hit records (and events).
  void decode_all(const std::vector<raw_message>& messages, int64_t now_ms, storage::batch& out,
                  std::vector<rejected_message>& rejected, std::vector<double>* latency_seconds,
                  build_stats& stats);
  void match_all(const matchers::matcher& m, const storage::batch& out, size_t first, build_stats& stats);
  void record_hits(storage::batch& out, size_t first, std::vector<alerting::hit_event>* events) const;

  // Sets the key a decoded message with an id is stored under (see set_stored_lookup);
  // false for a duplicate, which is left out.
  bool place(storage::message_record& rec, size_t channel, build_stats& stats);
  struct seen {
    storage::kafka_position source;
    size_t text_hash;
  };
  stored_lookup lookup_;
  std::unordered_map<std::string, seen> this_batch_, batch_before_;  // by key
};

// Writes one batch at a time on its own thread, so that the caller builds the next batch
// meanwhile (decode and match overlap the RocksDB write and its fsync).
//
// Threads: submit() and wait() from one thread (the ingest thread); the writer thread only
// calls store::write. Errors: the write's status comes back from wait().
class batch_writer {
 public:
  explicit batch_writer(storage::store& store);
  ~batch_writer();
  batch_writer(const batch_writer&) = delete;
  batch_writer& operator=(const batch_writer&) = delete;

  // Starts writing `b`, which must stay untouched until wait() returns. At most one batch
  // is in flight: call wait() first.
  void submit(const storage::batch& b);
  // True when the batch in flight is written (wait() will not block).
  bool done();
  // The outcome of the batch in flight (ok when there is none) and how long its write took.
  status wait(double* seconds = nullptr);

 private:
  void run();
  storage::store& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  const storage::batch* job_ = nullptr;
  std::optional<status> done_;
  double seconds_ = 0;
  bool stop_ = false;
  bool in_flight_ = false;
  std::thread thread_;
};

}  // namespace yuqing::ingest
