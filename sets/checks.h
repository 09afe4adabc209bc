// checks: a set file checked whole. The matcher reads the keyword rules; the `alerts:`
// section is the alert rules' (alerting/rules.h). Every path that loads or compiles a set
// for the daemon or yuqingctl (a reload, `yuqingctl check`, the set API's check and save,
// a posted backtest) passes section_checks() to the matcher, so a broken alert rule refuses
// the set everywhere, with file, line and column, as a broken keyword does.
//
// Threads: pure functions, any thread.
#pragma once

#include <memory>
#include <vector>

#include "alerting/rules.h"
#include "matchers/matcher.h"

namespace yuqing::sets {

// For matchers::compile_options::section_checks: the diagnostics of the set's alert rules.
std::vector<common::diagnostic> check_sections(const matchers::keyword_set& set);

// matchers::compile_options with section_checks set.
matchers::compile_options checked_options(matchers::compile_options options = {});

// The alert rules of a set (its text's `alerts:` section against its keyword rules).
alerting::rules_result alert_rules_of(const matchers::keyword_set& set);

// The alert rules of every set of a matcher, by set id.
std::shared_ptr<const alerting::rule_book> rule_book_of(const matchers::matcher& m);

}  // namespace yuqing::sets
