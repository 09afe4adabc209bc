// calendar: working days for reply deadlines — weekends off, except the make-up working
// days (调休上班), and the public holidays, as the State Council publishes them each year
// (seeds/calendar/cn-YYYY.yaml).
//
// Days are local dates at a fixed UTC offset (China: +08:00). A year without a file counts
// with weekends only; missing_years() says which years were asked for and not known, so
// the owner can log it.
//
// Threads: immutable after load, except the record of missing years (its own mutex).
// Errors: load_dir() names the file and line of anything malformed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/result.h"

namespace yuqing::mailbox {

class calendar {
 public:
  explicit calendar(int utc_offset_minutes = 8 * 60) : offset_ms_(int64_t{utc_offset_minutes} * 60000) {}
  calendar(const calendar& o);
  calendar& operator=(const calendar&) = delete;

  // Reads every *.yaml of `dir` (a year per file).
  static result<calendar> load_dir(const std::filesystem::path& dir, int utc_offset_minutes = 8 * 60);
  // One year's file content; `name` is used in errors.
  status add_year(const std::string& yaml, const std::string& name);

  // The local day (days since 1970-01-01) of a time, and the time a local day starts.
  int64_t day_of(int64_t ms) const;
  int64_t start_of(int64_t day) const { return day * 86400000 - offset_ms_; }

  bool working_day(int64_t day) const;
  // The end of the n-th working day after the day of `from_ms` (counting starts the next
  // day, as 12345 hotlines count 工作日): the reply deadline. n == 0: end of that day.
  int64_t add_working_days(int64_t from_ms, int n) const;
  // `from_ms` plus n hours, counting only the time within working days.
  int64_t add_working_hours(int64_t from_ms, int n) const;

  std::vector<int> years() const;          // years with a file
  std::set<int> missing_years() const;     // years asked for without one

 private:
  void note_year(int64_t day) const;
  int64_t offset_ms_;
  std::set<int64_t> off_, on_;  // holidays; make-up working days
  std::set<int> years_;
  mutable std::mutex mu_;
  mutable std::set<int> missing_;
};

// "2026-02-15" -> days since 1970-01-01; false when malformed.
bool parse_date(const std::string& s, int64_t& day);
int year_of_day(int64_t day);

}  // namespace yuqing::mailbox
