#include "mailbox/calendar.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/time.h"

namespace yuqing::mailbox {

namespace fs = std::filesystem;

bool parse_date(const std::string& s, int64_t& day) {
  int64_t ms;
  if (s.size() != 10 || !common::parse_rfc3339(s + "T00:00:00Z", ms)) return false;
  day = ms / 86400000;
  return true;
}

int year_of_day(int64_t day) {
  // civil_from_days (Howard Hinnant), year only.
  const int64_t z = day + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  return static_cast<int>(yoe + era * 400 + (mp >= 10 ? 1 : 0));
}

calendar::calendar(const calendar& o)
    : offset_ms_(o.offset_ms_), off_(o.off_), on_(o.on_), years_(o.years_) {
  std::lock_guard lock(o.mu_);
  missing_ = o.missing_;
}

result<calendar> calendar::load_dir(const fs::path& dir, int utc_offset_minutes) {
  calendar c(utc_offset_minutes);
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  if (ec) return error{dir.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string text;
    try {
      text = YAML::Dump(YAML::LoadFile(f.string()));
    } catch (const YAML::Exception& e) {
      return error{f.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
    }
    if (auto st = c.add_year(text, f.string()); !st) return error{st.error_message()};
  }
  return c;
}

status calendar::add_year(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return error{name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
  auto where = [&](const YAML::Node& n) { return name + ":" + std::to_string(n.Mark().line + 1) + ": "; };
  if (!root.IsMap() || !root["year"]) return error{name + ": expected a map with year, holidays, workdays"};
  int year = 0;
  try {
    year = root["year"].as<int>();
  } catch (const YAML::Exception&) {
    return error{where(root["year"]) + "year: expected a number"};
  }
  auto date = [&](const YAML::Node& n, int64_t& day) -> std::string {
    if (!n || !n.IsScalar() || !parse_date(n.as<std::string>(), day))
      return where(n) + "expected a date YYYY-MM-DD";
    if (year_of_day(day) != year) return where(n) + n.as<std::string>() + " is not in " + std::to_string(year);
    return "";
  };
  std::set<int64_t> off, on;
  for (const auto& h : root["holidays"]) {
    int64_t from = 0, to = 0;
    if (auto e = date(h["from"], from); !e.empty()) return error{e};
    if (auto e = date(h["to"], to); !e.empty()) return error{e};
    if (to < from) return error{where(h) + "to is before from"};
    for (int64_t d = from; d <= to; ++d) off.insert(d);
  }
  for (const auto& w : root["workdays"]) {
    int64_t d = 0;
    if (auto e = date(w, d); !e.empty()) return error{e};
    if (off.count(d)) return error{where(w) + "a day cannot be both a holiday and a working day"};
    on.insert(d);
  }
  if (!years_.insert(year).second) return error{name + ": year " + std::to_string(year) + " is given twice"};
  off_.insert(off.begin(), off.end());
  on_.insert(on.begin(), on.end());
  return ok_status();
}

int64_t calendar::day_of(int64_t ms) const {
  const int64_t local = ms + offset_ms_;
  return local >= 0 ? local / 86400000 : (local - 86399999) / 86400000;
}

void calendar::note_year(int64_t day) const {
  const int y = year_of_day(day);
  if (years_.count(y)) return;
  std::lock_guard lock(mu_);
  missing_.insert(y);
}

bool calendar::working_day(int64_t day) const {
  note_year(day);
  if (off_.count(day)) return false;
  if (on_.count(day)) return true;
  const int64_t weekday = ((day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
  return weekday != 0 && weekday != 6;
}

int64_t calendar::add_working_days(int64_t from_ms, int n) const {
  int64_t day = day_of(from_ms);
  for (int left = n; left > 0;)
    if (working_day(++day)) --left;
  return start_of(day + 1);
}

int64_t calendar::add_working_hours(int64_t from_ms, int n) const {
  int64_t left = int64_t{n} * 3600000;
  int64_t t = from_ms;
  while (true) {
    const int64_t day = day_of(t);
    const int64_t end = start_of(day + 1);
    if (working_day(day)) {
      if (t + left <= end) return t + left;
      left -= end - t;
    }
    t = end;
  }
}

std::vector<int> calendar::years() const { return {years_.begin(), years_.end()}; }

std::set<int> calendar::missing_years() const {
  std::lock_guard lock(mu_);
  return missing_;
}

}  // namespace yuqing::mailbox
