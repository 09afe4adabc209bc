// verdicts: analysts' judgements of hits (有效 relevant, 误报 false, 待定 undetermined),
// kept in the store's column family `verdicts`, apart from the hits.
//
// A hit's id names the rule, the set and the message: "SET|RULE|MESSAGE_KEY", with '%' and
// '|' inside RULE and MESSAGE_KEY written %25 and %7C (set ids have neither), so it can be
// read back whatever the message key holds. A replay rewrites a hit under the same key and
// the verdict, keyed by this id, stays; a hit handed back and stored again finds it too.
//
// Keys of the column family: "h\0" + hit id -> verdict_record (JSON), "a\0" + alert id ->
// the alert's verdict (JSON, the record of each example is written beside it).
// A record keeps the current verdict and its history (every verdict given, oldest first):
// yuqing_rule_verdicts_total counts the history, so the counter never goes down, restart
// or not.
//
// Concurrency: verdict_book is thread-safe (the store is; record() serializes its
// read-modify-write with a mutex). Errors: record()/find() return the store's error;
// record() refuses nothing itself (the caller checks the hit exists and the input).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "config/result.h"
#include "storage/store.h"

namespace yuqing::precision {

enum class verdict { relevant, false_hit, undetermined };
// "relevant" | "false" | "undetermined"; parse also takes 有效, 误报, 待定.
const char* to_string(verdict v);
const char* to_chinese(verdict v);  // 有效, 误报, 待定
std::optional<verdict> parse_verdict(const std::string& s);

constexpr size_t max_note_bytes = 1024;

struct hit_ref {
  std::string set, rule, message_key;
};
std::string hit_id(const std::string& set, const std::string& rule, const std::string& message_key);
std::string hit_id(const storage::hit_record& h);
// nullopt when `id` is not of the form SET|RULE|MESSAGE_KEY.
std::optional<hit_ref> parse_hit_id(const std::string& id);

struct verdict_entry {
  verdict what = verdict::undetermined;
  std::string who;   // "张三（防控办）"
  std::string note;
  int64_t time_ms = 0;
  std::string alert;  // given through this alert (empty: on the hit itself)
};

struct verdict_record {
  std::string hit;  // hit id
  std::string set, rule, set_version, topic, message_key;
  int64_t hit_time_ms = 0;
  verdict_entry current;
  std::vector<verdict_entry> history;  // oldest first, current last

  std::string to_json() const;
  static std::optional<verdict_record> from_json(std::string_view text);
};

// Per (set, rule, verdict): how many verdicts were given (history), for the counter.
using verdict_counts = std::map<std::tuple<std::string, std::string, std::string>, uint64_t>;

class verdict_book {
 public:
  explicit verdict_book(storage::store& store) : store_(store) {}
  verdict_book(const verdict_book&) = delete;
  verdict_book& operator=(const verdict_book&) = delete;

  // Records a verdict on the hit `h` (stored, synced) and returns the record.
  result<verdict_record> record(const storage::hit_record& h, verdict_entry e);
  // An alert's own verdict (the caller records its examples' hits with record()).
  status record_alert(const std::string& alert_id, const verdict_entry& e, size_t hits_marked);
  result<std::optional<std::string>> alert_verdict(const std::string& alert_id) const;

  result<std::optional<verdict_record>> find(const std::string& hit_id) const;
  // Every record of a set (every set when empty), in id order.
  result<std::vector<verdict_record>> all(const std::string& set = "") const;
  // The history counted per (set, rule, verdict), read from the store.
  result<verdict_counts> counts() const;

 private:
  storage::store& store_;
  std::mutex mu_;
};

}  // namespace yuqing::precision
