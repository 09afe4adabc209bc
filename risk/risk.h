// risk: the risk index (风险指数, plan item 12 风险研判) of every policy topic and every
// topic x region, the per-message tendency (tendency.h), the gazetteer (gazetteer.h) and the
// follow-up of published policies (policy.h). This header is the contract the briefings
// (briefing/) and the daemon's routes read.
//
// Operation: ingest hands every stored batch to observe(). Each message that hit a policy
// topic is placed in a region (gazetteer.h), given a tendency (tendency.h) and counted in
// the step (risk.step_minutes) of its own time — message time, never wall time — of the
// series (topic, 全市) and (topic, region). Mailbox messages open cases and replies close
// them, by message time too. The index of a series at a step boundary T is computed from
// the window [T - risk.window_minutes, T) alone, so it is a pure function of the messages
// stored, whatever the batches or the order they came in (a message key seen again is not
// counted twice). The level walks the series' values step by step with hysteresis (it
// rises as soon as the value reaches a threshold; it falls one level only after
// risk.levels.fall_steps steps below the threshold less risk.levels.margin), so it too
// depends on the messages only. The formula is in risk/README.md:
//
//   index = 100 * sum(w_i * s_i) / sum(w_i)   over the parts i that are known
//   volume   s = min(1, ln(1 + n) / ln(1 + volume_full))
//   growth   s = clamp((g - 1) / (growth_full - 1), 0, 1),  g = (n + 1) / (baseline + 1)
//                (baseline: mean of the same window on each of the previous baseline_days
//                 days the stream covers; unknown before one day is covered; 0 below
//                 min_volume messages)
//   spread   s = mean(min(1, authors/authors_full), min(1, (channels-1)/(channels_full-1)),
//                     min(1, (sources-1)/(sources_full-1)))
//   negative s = negative / (messages with a known tendency)  (unknown without lists)
//   mailbox  s = mean(min(1, open/open_full), min(1, overdue/overdue_full), concentrated)
//
// Concurrency: observe() from the ingest thread; every query from any thread (one mutex;
// a query computes what it needs on the spot). Memory: per series, the steps of the last
// baseline_days + 1 days, each with the keys, authors, channels and sources of its
// messages; mailbox cases for risk.mailbox_days.
//
// Limitations: messages older than the history kept (by the newest message time) are
// counted in ignored_old() and left out; with several daemons each computes the index of
// the partitions it reads (the index of a topic is right only on one instance).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/result.h"
#include "risk/gazetteer.h"
#include "risk/policy.h"
#include "risk/tendency.h"
#include "storage/records.h"
#include "storage/store.h"

namespace yuqing::risk {

enum class level { low, medium, high, very_high };
const char* to_string(level l);   // low, medium, high, very_high
const char* to_chinese(level l);  // 低, 中, 高, 极高
std::optional<level> parse_level(const std::string& s);  // low, medium, ... or 低, 中, ...
// "2022-11-21T09:00:00+08:00": ms since the epoch in the given UTC offset.
std::string local_time(int64_t ms, int utc_offset_minutes);

// The region of a topic's total series, and of messages the gazetteer cannot place.
inline constexpr const char* all_regions = "全市";
inline constexpr const char* unplaced = "未知";

// The settings (risk.* keys of the configuration; from_config() reads them).
struct options {
  int64_t step_ms = 10 * 60 * 1000;
  int64_t window_ms = 60 * 60 * 1000;
  int baseline_days = 7;
  // weights (any non-negative numbers; they are normalized over the known parts)
  double w_volume = 20, w_growth = 30, w_spread = 20, w_negative = 15, w_mailbox = 15;
  double volume_full = 30;     // messages in the window that score 1
  double growth_full = 3;      // growth factor that scores 1
  uint64_t min_volume = 5;     // below it growth scores 0
  double authors_full = 20, channels_full = 3, sources_full = 5;
  double open_full = 10, overdue_full = 3;
  int64_t concentrated_period_ms = int64_t{168} * 3600 * 1000;  // mailbox.concentrated.*
  uint64_t concentrated_count = 10;
  int mailbox_days = 60;
  int utc_offset_minutes = 480;  // times in JSON are shown in this offset (mailbox.utc_offset_minutes)
  // level thresholds on the index, hysteresis margin and steps below before a fall
  double medium = 30, high = 55, very_high = 80, margin = 8;
  int fall_steps = 3;
  // reply deadline of a mailbox message (category, received) -> deadline; unset: 15 days
  std::function<int64_t(const std::string& category, int64_t received_ms)> deadline;

  static options from_config(const config::daemon_config& cfg);
};

// The raw figures of one window.
struct figures {
  uint64_t messages = 0;  // distinct messages in the window
  double baseline = 0;    // mean messages of the same window on previous days
  int baseline_days = 0;  // days the baseline is made of (0: unknown)
  double growth = 0;      // (messages + 1) / (baseline + 1); 0 when unknown
  uint64_t authors = 0, channels = 0, sources = 0;
  uint64_t negative = 0, neutral = 0, positive = 0, unknown = 0;  // by tendency
  uint64_t mailbox_open = 0, mailbox_overdue = 0;  // cases as of the window's end
  uint64_t mailbox_recent = 0;  // mailbox messages in the concentrated period
  bool concentrated = false;    // mailbox_recent >= concentrated_count
};

// One part of the index: its score, weight and what it adds.
struct part {
  std::string name;   // volume, growth, spread, negative, mailbox
  std::string label;  // 声量, 增长, 扩散, 负面占比, 信箱压力
  bool known = true;  // false: left out (no lexicon, no baseline yet)
  double score = 0;   // 0..1
  double weight = 0;  // as configured
  double points = 0;  // what it adds to the index (0..100 over all parts)
};

// The index of one series at one step boundary.
struct reading {
  std::string topic, region;  // region: all_regions, unplaced or a region's name
  int64_t at_ms = 0;          // end (exclusive) of the window [at - window, at)
  double value = 0;           // 0..100
  level lvl = level::low;     // with hysteresis
  figures fig;
  std::vector<part> parts;    // volume, growth, spread, negative, mailbox
  std::string to_json(int utc_offset_minutes = 480) const;
};

struct query {
  std::string topic;   // empty: every topic
  std::string region;  // empty: every region (all_regions: the totals only)
};

// A period [from, to) for the briefings: the reading at its end, the one at its start
// (the end of the period before: the trend arrow), and the peak within.
struct snapshot_row {
  reading now;
  std::optional<reading> previous;  // nullopt: the series did not exist or is not kept then
  double peak = 0;
  int64_t peak_ms = 0;
  level peak_level = level::low;
};
struct snapshot {
  int64_t from_ms = 0, to_ms = 0;
  std::vector<snapshot_row> rows;  // topic, then 全市 first, then regions by name
  std::string to_json(int utc_offset_minutes = 480) const;
};

class engine {
 public:
  // `lex` may be null (tendency unknown); the gazetteer may be empty.
  engine(options o, std::shared_ptr<const lexicon> lex, gazetteer gaz);
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Counts the batch's messages that hit a topic, and mailbox messages and replies.
  void observe(const storage::batch& b);
  // Reads the stored hits and messages of the history kept back (at start). Stops at the
  // first store error, which it returns.
  status rebuild(const storage::store& store, int64_t now_ms);
  // A mailbox case known from elsewhere (the mailbox's own records, which outlive the
  // messages kept: the daemon adds them at start); a case already known is left as it is.
  void add_case(const std::string& id, int64_t received_ms, int64_t deadline_ms, const std::set<std::string>& topics,
                const std::string& region_field, const std::string& text, std::optional<int64_t> replied_ms);

  // The readings at the step boundary after the newest message (every series).
  std::vector<reading> current(const query& q = {}) const;
  // The readings at the step boundary at or before at_ms.
  std::vector<reading> at(int64_t at_ms, const query& q = {}) const;
  // One series' readings at every step boundary in (from_ms, to_ms], at most
  // max_series_points of them (the first ones).
  static constexpr size_t max_series_points = 10000;
  std::vector<reading> series(const std::string& topic, const std::string& region, int64_t from_ms,
                              int64_t to_ms) const;
  snapshot snapshot_of(int64_t from_ms, int64_t to_ms, const query& q = {}) const;

  // A message's tendency with the lexicon in force.
  assessment tendency_of(const storage::message_record& m) const;
  std::string region_of(const storage::message_record& m) const;
  std::shared_ptr<const lexicon> lexicon_in_force() const;

  int64_t newest_ms() const;  // newest message time counted (0: none)
  uint64_t ignored_old() const;
  std::vector<std::string> topics() const;
  const options& settings() const { return options_; }

 private:
  struct impl;
  std::vector<reading> at_locked(int64_t at_ms, const query& q) const;
  options options_;
  std::shared_ptr<impl> impl_;
};

}  // namespace yuqing::risk
