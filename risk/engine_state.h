// Internal to risk/: the engine's state and the computation of one reading. Not part of
// the contract (risk.h). Guarded by engine::impl::mu.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "risk/risk.h"

namespace yuqing::risk::detail {

inline constexpr int64_t day_ms = int64_t{24} * 3600 * 1000;
inline constexpr int64_t never = std::numeric_limits<int64_t>::max();

struct observed {  // one message in one step of one series
  std::string author, channel, source;
  tendency t = tendency::unknown;
};

struct mailbox_case {
  int64_t received_ms = 0, deadline_ms = 0;
  int64_t replied_ms = never;
};

struct cached {  // the walk's state at one boundary
  double value = 0;
  level lvl = level::low;
  int below = 0;  // consecutive steps below the current level's threshold less the margin
};

struct series_state {
  std::map<int64_t, std::map<std::string, observed>> cells;  // step index -> message key -> what
  std::vector<std::shared_ptr<mailbox_case>> cases;
  std::map<int64_t, cached> cache;  // boundary index -> state
  int64_t dirty_from = never;       // boundaries from here on are to be walked again
  void dirty(int64_t boundary) { dirty_from = std::min(dirty_from, boundary); }
};

using series_key = std::pair<std::string, std::string>;  // topic, region

// Computes readings of series; `earliest_step` is the first step the stream covers.
class calculator {
 public:
  calculator(const options& o, bool lexicon) : o_(o), lexicon_(lexicon) {}
  // The figures and parts of the window ending at boundary b (value and parts filled; the
  // level is the caller's).
  reading compute(const series_state& s, int64_t b, int64_t earliest_step) const;
  // The next state of the walk after `prev` with value v.
  cached next(const cached& prev, double v) const;
  double threshold(level l) const;

 private:
  figures count(const series_state& s, int64_t b, int64_t earliest_step) const;
  std::vector<part> parts(const figures& f) const;
  const options& o_;
  bool lexicon_;
};

}  // namespace yuqing::risk::detail
