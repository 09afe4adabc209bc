// policy: the follow-up of a published policy (plan item 9): registered with its
// publication time and keyword set, its reaction curve from publication on — messages per
// day (in the configured UTC offset), their tendency, and the largest clusters of
// near-identical messages, each with a representative text.
//
// Policies come from the configuration (risk.policies) and from the API (POST
// /api/v1/policies), which are kept in a JSON file in the store's directory.
//
// Threads: policy_book is guarded by its own mutex; follow() is a pure read of the store.
// Errors: register_policy() names the field that is wrong; follow() returns the store's
// error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/result.h"
#include "risk/tendency.h"
#include "storage/store.h"

namespace yuqing::risk {

struct policy {
  std::string id;    // [a-z0-9_-], at most 64 bytes
  std::string name;  // e.g. 《江门市户籍迁移管理规定》
  int64_t published_ms = 0;
  std::vector<std::string> keywords;  // a message mentions it when its text holds any
  std::string unit;                   // drafting unit (for the briefing)
  std::string origin = "config";      // config | api
  std::string to_json(int utc_offset_minutes = 480) const;
  // From the API's JSON ({id, name, published, keywords, unit}); the error names the field
  // at fault. A bare date is local midnight in the UTC offset.
  static result<policy> from_json(const std::string& text, int utc_offset_minutes = 480);
};

// "YYYY-MM-DD" (local midnight), or RFC 3339 ("2022-11-01T09:30:00+08:00", "...Z").
std::optional<int64_t> parse_time(const std::string& s, int utc_offset_minutes);

struct policy_day {
  int64_t day_ms = 0;  // local midnight (UTC offset) as epoch ms
  uint64_t messages = 0, negative = 0, neutral = 0, positive = 0, unknown = 0;
};

struct policy_cluster {
  std::string representative;  // text of its first message
  std::string first_key;
  uint64_t size = 0;
  uint64_t negative = 0;
};

struct policy_curve {
  policy p;
  int64_t until_ms = 0;
  std::vector<policy_day> days;            // from the day of publication to until_ms
  std::vector<policy_cluster> clusters;    // largest first, at most `top`
  uint64_t messages = 0, negative = 0, neutral = 0, positive = 0, unknown = 0;
  bool before_retention = false;  // publication is older than the messages kept
  std::string to_json(int utc_offset_minutes = 480) const;
};

// Groups messages into clusters: returns a cluster id for (key, text, time) and, for an id,
// its size is counted by the caller. The daemon passes the mailbox's text clusterer.
using cluster_fn = std::function<uint64_t(const std::string& key, const std::string& text, int64_t time_ms)>;

// The curve of `p` from its publication to until_ms over the stored messages.
result<policy_curve> follow(const storage::store& store, const policy& p, const lexicon* lex,
                            int64_t until_ms, int utc_offset_minutes, const cluster_fn& cluster,
                            size_t top = 5, int64_t retention_ms = 0);

class policy_book {
 public:
  // `file`: where API-registered policies are kept (empty: not kept).
  explicit policy_book(std::filesystem::path file = {});
  // Config policies, then the kept ones (a kept one with a config policy's id is dropped).
  status load(const std::vector<policy>& from_config);
  // Adds or replaces an API policy and writes the file; a config policy's id is refused.
  status register_policy(policy p);
  status remove(const std::string& id);  // API policies only
  std::vector<policy> list() const;
  std::optional<policy> get(const std::string& id) const;

 private:
  status save_locked() const;
  std::filesystem::path file_;
  mutable std::mutex mu_;
  std::vector<policy> policies_;
};

}  // namespace yuqing::risk
