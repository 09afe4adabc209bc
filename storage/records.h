// The records yuqing keeps, and their stored encoding (JSON values; keys in store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yuqing::storage {

// Where a stored thing came from in Kafka.
struct kafka_position {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// A stretch of a message field that a rule matched, in bytes of the original text.
struct matched_span {
  std::string field;  // e.g. "content"
  uint32_t begin = 0;
  uint32_t end = 0;
  std::string text;   // the original bytes [begin, end)
};

// One rule of one set that matched one message.
struct hit_record {
  std::string topic;        // policy topic of the set
  int64_t time_ms = 0;      // message time (published_at, else Kafka timestamp)
  std::string message_key;  // "<kafka topic>/<id>", or "<kafka topic>@<partition>:<offset>"
  std::string set_id;
  std::string set_version;
  std::string rule_id;
  std::string severity;
  int plan_item = 0;
  std::string channel;
  kafka_position source;
  std::string author;
  std::string title;
  std::vector<matched_span> spans;
  // Word boundaries (matchers/boundary.h): "word", "cut", or empty when not computed.
  // Stored after the spans, only when set (records written before it decode as empty).
  std::string boundary;

  // The stored (binary) form; encode_to appends it to `out`.
  std::string encode() const;
  void encode_to(std::string& out) const;
  static std::optional<hit_record> decode(std::string_view value);
  // JSON, for tools and the HTTP API.
  std::string to_json() const;
  static std::optional<hit_record> from_json(const std::string& value);
};

// A decoded message, kept for backtests and for the HTTP API.
struct message_record {
  std::string key;
  std::string channel;
  std::string kind;
  kafka_position source;
  int64_t time_ms = 0;
  std::string id, author, source_name, url, region, title;
  std::string category;  // mailbox messages: 咨询, 求助, 建议, 投诉, 举报, ...
  std::vector<std::pair<std::string, std::string>> text;  // matched fields: name, text

  // The stored (binary) form; encode_to appends it to `out`.
  std::string encode() const;
  void encode_to(std::string& out) const;
  static std::optional<message_record> decode(std::string_view value);
  // JSON, for tools and the HTTP API.
  std::string to_json() const;
  static std::optional<message_record> from_json(const std::string& value);
};

// One loaded version of a keyword set (kept for good: which version produced a hit, who
// loaded it and when). Stored as JSON.
struct set_version_record {
  std::string set_id;
  std::string version;  // content hash of the set file
  int64_t loaded_ms = 0;
  std::string trigger;  // startup, inotify, SIGHUP, http (with the client address)
  std::string file;
  uint64_t rules = 0;
  uint64_t literals = 0;
  double compile_ms = 0;
  bool from_cache = false;
  std::string who;   // the person who saved it through the API (empty: a file edit, start-up)
  std::string text;  // the file's text; kept under its own key, not in to_json()

  std::string to_json() const;
  static std::optional<set_version_record> from_json(const std::string& value);
};

// The next offset to read from one partition.
struct partition_offset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

}  // namespace yuqing::storage
