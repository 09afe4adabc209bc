// rules: the alert rules of a keyword set, their model and their parser.
//
// A set file (matchers/README.md) may carry an `alerts:` list beside its keyword rules.
// Each alert rule decides when hits of the set become an alert:
//   immediate  a hit of at least min_severity
//   threshold  at least `count` matching messages within `window`
//   spike      at least min_count messages within `window` and `factor` times the rate of
//              the `baseline` window before it
//   spread     at least `count` distinct authors (or sources) within `window`
// Common: id (default "<kind>-<position>"), level (default yellow), rule (only hits of this
// keyword rule; default any rule of the set), resolve_after (how long the condition must
// stay clear before the alert resolves; default 10m).
//
// The keyword parser (matchers/keyword_set.h) accepts the section and leaves it to
// parse_alert_rules(); the keyword sets (sets/checked_set.h) run both on every set they
// check or load, so a set is refused for an error in either, with file, line and column.
//
// Threads: plain values and pure functions. Errors: parsing never throws; problems come
// back as diagnostics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.h"

namespace yuqing::alerting {

using common::severity;

// Alert levels of the command center, lowest first.
enum class alert_level { blue = 0, yellow = 1, orange = 2, red = 3 };
const char* to_string(alert_level l);
std::optional<alert_level> parse_alert_level(const std::string& s);

struct alert_rule {
  std::string id;
  std::string kind;
  alert_level level = alert_level::yellow;
  std::string rule;
  severity min_severity = severity::critical;
  int64_t window_ms = 0;
  int64_t baseline_ms = 0;
  double factor = 0;
  uint64_t count = 0;  // threshold, spread; spike: min_count
  std::string distinct = "author";  // spread: author | source
  int64_t resolve_after_ms = 10 * 60 * 1000;
  common::source_pos pos;
};

struct rules_result {
  std::vector<alert_rule> rules;  // the valid ones (all of them when there is no error)
  std::vector<common::diagnostic> diagnostics;
  bool ok() const { return common::error_count(diagnostics) == 0; }
};

// The `alerts:` section of a set file's text (none: no rules), each rule checked against
// the ids of the set's keyword rules. `file` names the file in the diagnostics.
rules_result parse_alert_rules(const std::string& yaml, const std::string& file,
                               const std::vector<std::string>& keyword_rule_ids);

// The alert rules of the sets in force, by set id, with each set's name for summaries.
struct set_alerts {
  std::string name;
  std::vector<alert_rule> rules;
};
using rule_book = std::map<std::string, set_alerts>;
// Where the alert service reads the rules in force (the keyword sets' latest rule book).
using rules_source = std::function<std::shared_ptr<const rule_book>()>;

}  // namespace yuqing::alerting
