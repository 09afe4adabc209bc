// precision: per-rule precision from the stored hits and the analysts' verdicts.
//
// Operation: compute_precision() reads the hits of a period (the hits column family, every
// topic, optionally one set), looks each up among the verdicts, and counts per set and rule
// (and per set, rule and set version): hits, judged (any verdict), relevant, false,
// undetermined. Precision is relevant / (relevant + false): undetermined verdicts count as
// judged but in neither; the interval is Wilson's score interval (95 %, z = 1.96), which
// stays inside [0, 1] and is honest for the small numbers an analyst judges.
//
// Ordering (the noisiest first): false hits, descending; then precision, ascending (rules
// without a judged hit after those with one); then hits, descending.
//
// Concurrency: plain functions over a thread-safe store. Errors: the store's, as a result.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "config/result.h"
#include "precision/verdicts.h"
#include "storage/store.h"

namespace yuqing::precision {

struct interval {
  double low = 0, high = 1;
};
// Wilson score interval of `successes` out of `n` (n = 0: [0, 1]).
interval wilson(uint64_t successes, uint64_t n, double z = 1.959963984540054);

struct rule_precision {
  std::string set, rule;
  std::string set_version;  // empty in the per-rule rows (all versions together)
  uint64_t hits = 0, judged = 0, relevant = 0, false_hits = 0, undetermined = 0;
  std::optional<double> precision() const;  // nullopt: nothing judged relevant or false
  interval ci() const { return wilson(relevant, relevant + false_hits); }
};

struct precision_query {
  std::string set;  // empty: every set
  int64_t from_ms = 0;
  int64_t to_ms = std::numeric_limits<int64_t>::max();  // exclusive
  // Rules that exist (in the sets in force) and are listed with 0 hits when none matched.
  std::vector<std::pair<std::string, std::string>> known_rules;
};

struct precision_report {
  int64_t from_ms = 0, to_ms = 0;
  uint64_t hits = 0, judged = 0;
  std::vector<rule_precision> rules;     // per set and rule, noisiest first
  std::vector<rule_precision> versions;  // per set, rule and version, by set, rule, version
  std::string to_json() const;
};

// Orders rows noisiest first (see above).
void rank_noisiest(std::vector<rule_precision>& rows);

result<precision_report> compute_precision(const storage::store& store, const verdict_book& book,
                                           const precision_query& q);

// A set's threshold (a key of the set file): a rule with at least min_judged relevant+false
// verdicts whose precision is under `threshold` needs tuning.
struct threshold {
  double precision = 0;  // 0: none
  uint64_t min_judged = 10;
};
// The precision of one rule from all its verdicts (every period), for the threshold.
rule_precision rule_verdicts(const std::vector<verdict_record>& records, const std::string& set,
                             const std::string& rule);
bool needs_tuning(const rule_precision& r, const threshold& t);

}  // namespace yuqing::precision
