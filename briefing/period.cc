// Periods: local days and Monday-to-Sunday weeks in a fixed UTC offset.
#include <cstdio>

#include "briefing/briefing.h"

namespace yuqing::briefing {

namespace {

constexpr int64_t day_ms = 86400000;

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct civil {
  int64_t y;
  unsigned m, d;
};

civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Local day number of a time.
int64_t local_day(int64_t ms, int off) { return floor_div(ms + int64_t{off} * 60000, day_ms); }
int64_t day_start(int64_t day, int off) { return day * day_ms - int64_t{off} * 60000; }

}  // namespace

const char* to_string(period_kind k) { return k == period_kind::daily ? "daily" : "weekly"; }
const char* to_chinese(period_kind k) { return k == period_kind::daily ? "日报" : "周报"; }

std::optional<period_kind> parse_kind(const std::string& kind) {
  if (kind == "daily" || kind == "日报") return period_kind::daily;
  if (kind == "weekly" || kind == "周报") return period_kind::weekly;
  return std::nullopt;
}

period period_of(period_kind k, int64_t at_ms, int off) {
  int64_t day = local_day(at_ms, off);
  int64_t days = 1;
  if (k == period_kind::weekly) {
    // 1970-01-01 was a Thursday: Monday is day 4 (mod 7).
    day -= ((day - 4) % 7 + 7) % 7;
    days = 7;
  }
  return {k, day_start(day, off), day_start(day + days, off), off};
}

std::optional<period> parse_period(const std::string& kind, const std::string& date, int off) {
  auto k = parse_kind(kind);
  if (!k) return std::nullopt;
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const int64_t day = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  const auto back = civil_from_days(day);
  if (back.m != static_cast<unsigned>(m) || back.d != static_cast<unsigned>(d)) return std::nullopt;  // 02-30
  return period_of(*k, day_start(day, off), off);
}

period period::previous() const {
  const int64_t len = to_ms - from_ms;
  return {kind, from_ms - len, from_ms, utc_offset_minutes};
}

std::string period::id() const {
  const auto c = civil_from_days(local_day(from_ms, utc_offset_minutes));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s-%04lld-%02u-%02u", to_string(kind), static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

std::string period::label() const {
  const auto a = civil_from_days(local_day(from_ms, utc_offset_minutes));
  char buf[96];
  if (kind == period_kind::daily) {
    std::snprintf(buf, sizeof buf, "%lld年%u月%u日", static_cast<long long>(a.y), a.m, a.d);
  } else {
    const auto b = civil_from_days(local_day(to_ms, utc_offset_minutes) - 1);
    if (b.y != a.y)
      std::snprintf(buf, sizeof buf, "%lld年%u月%u日—%lld年%u月%u日", static_cast<long long>(a.y), a.m, a.d,
                    static_cast<long long>(b.y), b.m, b.d);
    else
      std::snprintf(buf, sizeof buf, "%lld年%u月%u日—%u月%u日", static_cast<long long>(a.y), a.m, a.d, b.m, b.d);
  }
  return buf;
}

std::string local_clock(int64_t ms, int off, bool only_time) {
  const int64_t local = ms + int64_t{off} * 60000;
  const int64_t day = floor_div(local, day_ms);
  const int64_t in_day = local - day * day_ms;
  const auto c = civil_from_days(day);
  char buf[48];
  const int hh = static_cast<int>(in_day / 3600000), mm = static_cast<int>(in_day / 60000 % 60);
  if (only_time)
    std::snprintf(buf, sizeof buf, "%02d:%02d", hh, mm);
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02d:%02d", static_cast<long long>(c.y), c.m, c.d, hh, mm);
  return buf;
}

}  // namespace yuqing::briefing
