// The risk engine's settings from the configuration, its JSON forms, and its rebuild from
// the store at start.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "risk/risk.h"

namespace yuqing::risk {

options options::from_config(const config::daemon_config& c) {
  options o;
  // The step divides the day (the baseline compares the same hours); the window is whole steps.
  int step = c.risk_step_minutes;
  while (step > 1 && 1440 % step != 0) --step;
  o.step_ms = int64_t{step} * 60000;
  o.window_ms = (int64_t{c.risk_window_minutes} + step - 1) / step * step * 60000;
  o.baseline_days = c.risk_baseline_days;
  o.w_volume = c.risk_weight_volume, o.w_growth = c.risk_weight_growth, o.w_spread = c.risk_weight_spread;
  o.w_negative = c.risk_weight_negative, o.w_mailbox = c.risk_weight_mailbox;
  o.volume_full = c.risk_full_volume;
  o.growth_full = c.risk_full_growth_percent / 100.0;
  o.min_volume = static_cast<uint64_t>(c.risk_min_volume);
  o.authors_full = c.risk_full_authors, o.channels_full = c.risk_full_channels, o.sources_full = c.risk_full_sources;
  o.open_full = c.risk_full_open_cases, o.overdue_full = c.risk_full_overdue_cases;
  o.concentrated_period_ms = int64_t{c.concentrated_period_hours} * 3600 * 1000;
  o.concentrated_count = static_cast<uint64_t>(c.concentrated_count);
  o.mailbox_days = c.risk_mailbox_days;
  double t[3] = {double(c.risk_level_medium), double(c.risk_level_high), double(c.risk_level_very_high)};
  std::sort(t, t + 3);  // thresholds given out of order are taken in order
  o.medium = t[0], o.high = t[1], o.very_high = t[2];
  o.margin = c.risk_level_margin, o.fall_steps = c.risk_level_fall_steps;
  o.utc_offset_minutes = c.mailbox_utc_offset_minutes;
  return o;
}

std::optional<level> parse_level(const std::string& s) {
  for (level l : {level::low, level::medium, level::high, level::very_high})
    if (s == to_string(l) || s == to_chinese(l)) return l;
  return std::nullopt;
}

std::string local_time(int64_t ms, int utc_offset_minutes) {
  const int64_t local = ms + int64_t{utc_offset_minutes} * 60000;
  const std::time_t secs = static_cast<std::time_t>(local >= 0 ? local / 1000 : (local - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const int off = std::abs(utc_offset_minutes);
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", utc_offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  return std::string(buf) + zone;
}

namespace {

double one_decimal(double v) { return std::round(v * 10) / 10; }
double three_decimals(double v) { return std::round(v * 1000) / 1000; }

nlohmann::json reading_json(const reading& r, int off) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : r.parts)
    parts.push_back({{"name", p.name}, {"label", p.label}, {"known", p.known}, {"score", three_decimals(p.score)},
                     {"weight", p.weight}, {"points", one_decimal(p.points)}});
  const auto& f = r.fig;
  nlohmann::json fig = {{"messages", f.messages},
                        {"baseline", f.baseline_days ? nlohmann::json(three_decimals(f.baseline)) : nlohmann::json()},
                        {"baseline_days", f.baseline_days},
                        {"growth", f.baseline_days ? nlohmann::json(three_decimals(f.growth)) : nlohmann::json()},
                        {"authors", f.authors}, {"channels", f.channels}, {"sources", f.sources},
                        {"negative", f.negative}, {"neutral", f.neutral}, {"positive", f.positive},
                        {"tendency_unknown", f.unknown}, {"mailbox_open", f.mailbox_open},
                        {"mailbox_overdue", f.mailbox_overdue}, {"mailbox_recent", f.mailbox_recent},
                        {"concentrated", f.concentrated}};
  return {{"topic", r.topic}, {"region", r.region}, {"at", local_time(r.at_ms, off)}, {"at_ms", r.at_ms},
          {"value", r.value}, {"level", to_string(r.lvl)}, {"level_label", to_chinese(r.lvl)},
          {"figures", fig}, {"parts", parts}};
}

}  // namespace

std::string reading::to_json(int off) const { return reading_json(*this, off).dump(); }

std::string snapshot::to_json(int off) const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const auto& row : rows) {
    auto j = reading_json(row.now, off);
    if (row.previous) {
      j["previous"] = {{"at", local_time(row.previous->at_ms, off)}, {"value", row.previous->value},
                       {"level", to_string(row.previous->lvl)}, {"level_label", to_chinese(row.previous->lvl)}};
      const double d = row.now.value - row.previous->value;
      j["trend"] = d >= 5 ? "up" : d <= -5 ? "down" : "flat";
      j["trend_arrow"] = d >= 5 ? "↑" : d <= -5 ? "↓" : "→";
    } else {
      j["previous"] = nullptr;
      j["trend"] = "new";
      j["trend_arrow"] = "新";
    }
    j["peak"] = {{"value", row.peak}, {"at", row.peak_ms ? nlohmann::json(local_time(row.peak_ms, off)) : nlohmann::json()},
                 {"level", to_string(row.peak_level)}, {"level_label", to_chinese(row.peak_level)}};
    rows_json.push_back(std::move(j));
  }
  return nlohmann::json{{"from", local_time(from_ms, off)}, {"to", local_time(to_ms, off)}, {"rows", rows_json}}.dump();
}

status engine::rebuild(const storage::store& store, int64_t now_ms) {
  const int64_t history = (options_.baseline_days + 1) * int64_t{24} * 3600 * 1000;
  storage::hit_query q;
  // The newest message may be older than now (a replay, a pause): read two histories back;
  // observe() keeps what falls in the history of the newest one.
  q.since_ms = now_ms - 2 * history;
  q.limit = std::numeric_limits<size_t>::max();
  auto hits = store.hits(q);
  if (!hits.ok()) return error{hits.error_message()};
  std::set<std::string> keys;
  for (const auto& h : *hits) keys.insert(h.message_key);
  storage::batch b;
  b.hits = std::move(*hits);
  std::string after;
  for (;;) {
    auto page = store.scan_messages(after, 1000);
    if (!page.ok()) return error{page.error_message()};
    for (auto& m : page->messages)
      if (m.time_ms >= q.since_ms && (keys.count(m.key) || m.kind == "mailbox-reply")) b.messages.push_back(std::move(m));
    if (page->done) break;
    after = page->last_key;
  }
  observe(b);
  return ok_status();
}

}  // namespace yuqing::risk
