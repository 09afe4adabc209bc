// pipeline: the work of one batch between Kafka and the store, without Kafka: decode each
// message with its channel's mapping, match it, and gather the hits, the messages and the
// next offset of every partition into one storage::batch. ingest feeds it Kafka messages;
// the pipeline benchmark feeds it from memory, so both measure the same code.
//
// Threads: one batch_builder per thread (it owns simdjson parsers). The matcher is shared.
// Errors: an undecodable message is reported in `rejected` with its reason and left out of
// the batch (its offset still counts: the caller dead-letters it first).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/decoder.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::daemon {

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

class batch_builder {
 public:
  // `cfg` must outlive the builder (its decoders keep references to the channels).
  explicit batch_builder(const config::daemon_config& cfg);

  // Index of the channel reading `topic`, or -1.
  int channel_of(std::string_view topic) const;

  // Appends to `out` and `rejected`. `now_ms` stands in for a missing Kafka timestamp;
  // `latency_seconds`, when set, receives (now - Kafka timestamp) of every decoded message.
  void build(const std::vector<raw_message>& messages, const matchers::matcher& m, int64_t now_ms,
             storage::batch& out, std::vector<rejected_message>& rejected,
             const std::function<void(double)>& latency_seconds = {});

 private:
  std::map<std::string, size_t, std::less<>> channel_of_;
  std::vector<decoder> decoders_;
  std::vector<matchers::hit> found_;
  std::vector<std::string_view> fields_;
};

}  // namespace yuqing::daemon
