// common/time: points in time as people and files write them (RFC 3339, ages like "7d").
//
// Pure functions, any thread, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yuqing::common {

// "2022-05-01T08:30:00+08:00" -> ms since the epoch; false when it is not RFC 3339.
bool parse_rfc3339(std::string_view s, int64_t& ms);
std::string format_rfc3339(int64_t ms);
// A point in time as an operator writes it: RFC 3339, milliseconds since the epoch, or an
// age before `now_ms` ("7d", "12h", "30m", "45s"). False when it is none of these.
bool parse_time_or_age(std::string_view s, int64_t now_ms, int64_t& ms);
// ms as RFC 3339 at this UTC offset: 2026-12-02T09:40:00.000+08:00.
std::string local_rfc3339(int64_t ms, int offset_minutes);
// A length of time as a set file writes it: "90s", "10m", "24h", "7d" -> milliseconds;
// nullopt when malformed or not positive.
std::optional<int64_t> parse_duration(std::string_view s);

}  // namespace yuqing::common
