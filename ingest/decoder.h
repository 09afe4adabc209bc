// decoder: turns a Kafka message of one channel into a decoded_message, or says why it
// cannot (the reason goes into the dead-letter header and the invalid-message counter).
//
// Concurrency: one decoder per thread (it owns a simdjson parser). No exceptions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/time.h"
#include "config/config.h"
#include "storage/records.h"

namespace yuqing::ingest {

// wrong_type: a text field holds something other than a string or an array of strings.
enum class decode_error { none, empty, oversize, invalid_json, invalid_utf8, missing_text, missing_id, wrong_type };
const char* to_string(decode_error e);
constexpr decode_error all_decode_errors[] = {decode_error::empty, decode_error::oversize,
                                              decode_error::invalid_json,
                                              decode_error::invalid_utf8,
                                              decode_error::missing_text,
                                              decode_error::missing_id,
                                              decode_error::wrong_type};

class decoder {
 public:
  decoder(const config::channel& channel, int64_t max_bytes)
      : channel_(channel), max_bytes_(max_bytes) {}

  // Fills `out` (a message_record whose `text` holds the fields to match). kafka_time_ms is
  // the Kafka timestamp, used when the message has no readable time. A text field is a
  // string or an array of strings (joined with newlines, so no keyword spans two); absent
  // or null, it is left out; any other type is wrong_type (the message is dead-lettered).
  decode_error decode(std::string_view payload, const storage::kafka_position& pos,
                      int64_t kafka_time_ms, storage::message_record& out);

  const config::channel& channel() const { return channel_; }

 private:
  const config::channel& channel_;
  int64_t max_bytes_;
  simdjson::dom::parser parser_;
};

// The key of a message: "<topic>/<id>", else "<topic>@<partition>:<offset>".
std::string message_key(const storage::kafka_position& pos, std::string_view id);

}  // namespace yuqing::ingest
