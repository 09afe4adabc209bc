// The formula of the index (risk/README.md): figures of a window, parts, value, level.
#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_set>

#include "risk/engine_state.h"

namespace yuqing::risk::detail {

namespace {

double clamp01(double x) { return std::isfinite(x) ? std::clamp(x, 0.0, 1.0) : 0.0; }

// min(1, (n - 1) / (full - 1)): one channel (or source) is no spread; `full` of them is.
double beyond_one(uint64_t n, double full) {
  if (n == 0) return 0;
  if (full <= 1) return 1;
  return clamp01((static_cast<double>(n) - 1) / (full - 1));
}

uint64_t messages_in(const series_state& s, int64_t from_step, int64_t to_step) {
  uint64_t n = 0;
  for (auto it = s.cells.lower_bound(from_step); it != s.cells.end() && it->first < to_step; ++it)
    n += it->second.size();
  return n;
}

}  // namespace

double calculator::threshold(level l) const {
  switch (l) {
    case level::medium: return o_.medium;
    case level::high: return o_.high;
    case level::very_high: return o_.very_high;
    default: return 0;
  }
}

figures calculator::count(const series_state& s, int64_t b, int64_t earliest_step) const {
  figures f;
  const int64_t w = o_.window_ms / o_.step_ms, d = day_ms / o_.step_ms;
  std::unordered_set<std::string_view> authors, channels, sources;
  for (auto it = s.cells.lower_bound(b - w); it != s.cells.end() && it->first < b; ++it)
    for (const auto& [key, m] : it->second) {
      ++f.messages;
      if (!m.author.empty()) authors.insert(m.author);
      if (!m.channel.empty()) channels.insert(m.channel);
      if (!m.source.empty()) sources.insert(m.source);
      switch (m.t) {
        case tendency::negative: ++f.negative; break;
        case tendency::neutral: ++f.neutral; break;
        case tendency::positive: ++f.positive; break;
        default: ++f.unknown;
      }
    }
  f.authors = authors.size(), f.channels = channels.size(), f.sources = sources.size();
  uint64_t sum = 0;
  for (int k = 1; k <= o_.baseline_days; ++k) {
    const int64_t lo = b - w - k * d;
    if (lo < earliest_step) break;
    sum += messages_in(s, lo, lo + w);
    ++f.baseline_days;
  }
  if (f.baseline_days > 0) {
    f.baseline = static_cast<double>(sum) / f.baseline_days;
    f.growth = (static_cast<double>(f.messages) + 1) / (f.baseline + 1);
  }
  const int64_t t = b * o_.step_ms;
  for (const auto& c : s.cases) {
    if (c->received_ms >= t) continue;
    if (c->received_ms >= t - o_.concentrated_period_ms) ++f.mailbox_recent;
    if (c->replied_ms < t) continue;
    (t > c->deadline_ms ? f.mailbox_overdue : f.mailbox_open) += 1;
  }
  f.concentrated = f.mailbox_recent >= o_.concentrated_count;
  return f;
}

std::vector<part> calculator::parts(const figures& f) const {
  std::vector<part> p(5);
  const double n = static_cast<double>(f.messages);
  p[0] = {"volume", "声量", true, clamp01(std::log1p(n) / std::log1p(std::max(1.0, o_.volume_full))), o_.w_volume};
  p[1] = {"growth", "增长", f.baseline_days > 0,
          f.messages < o_.min_volume ? 0.0 : clamp01((f.growth - 1) / std::max(1e-9, o_.growth_full - 1)),
          o_.w_growth};
  p[2] = {"spread", "扩散", true,
          (clamp01(static_cast<double>(f.authors) / std::max(1.0, o_.authors_full)) +
           beyond_one(f.channels, o_.channels_full) + beyond_one(f.sources, o_.sources_full)) / 3,
          o_.w_spread};
  const uint64_t known = f.negative + f.neutral + f.positive;
  p[3] = {"negative", "负面占比", lexicon_, known ? static_cast<double>(f.negative) / static_cast<double>(known) : 0.0,
          o_.w_negative};
  p[4] = {"mailbox", "信箱压力", true,
          (clamp01(static_cast<double>(f.mailbox_open) / std::max(1.0, o_.open_full)) +
           clamp01(static_cast<double>(f.mailbox_overdue) / std::max(1.0, o_.overdue_full)) +
           (f.concentrated ? 1.0 : 0.0)) / 3,
          o_.w_mailbox};
  double total = 0;
  for (const auto& x : p)
    if (x.known) total += x.weight;
  for (auto& x : p) x.points = (x.known && total > 0) ? 100 * x.weight * x.score / total : 0;
  return p;
}

reading calculator::compute(const series_state& s, int64_t b, int64_t earliest_step) const {
  reading r;
  r.at_ms = b * o_.step_ms;
  r.fig = count(s, b, earliest_step);
  r.parts = parts(r.fig);
  for (const auto& x : r.parts) r.value += x.points;
  r.value = std::round(r.value * 10) / 10;  // one decimal: what is shown is what is compared
  return r;
}

cached calculator::next(const cached& prev, double v) const {
  level target = level::low;
  for (level l : {level::medium, level::high, level::very_high})
    if (v >= threshold(l)) target = l;
  if (target > prev.lvl) return {v, target, 0};
  if (prev.lvl == level::low || v >= threshold(prev.lvl) - o_.margin) return {v, prev.lvl, 0};
  const int below = prev.below + 1;
  if (below < o_.fall_steps) return {v, prev.lvl, below};
  return {v, static_cast<level>(static_cast<int>(prev.lvl) - 1), 0};
}

}  // namespace yuqing::risk::detail
