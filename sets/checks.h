// checks: a set file checked whole. The matcher reads the keyword rules; the `alerts:`
// section is the alert rules' (alerting/rules.h). Every path that reads a set for the
// daemon or yuqingctl (a reload, `yuqingctl check|test|backtest`, the set API's check and
// save, a posted backtest or test) parses it with check_sections(), so a broken alert rule
// refuses the set everywhere, with file, line and column, as a broken keyword does, and
// both kinds of error come in one answer.
//
// Threads: pure functions, any thread.
#pragma once

#include <memory>
#include <vector>

#include "alerting/rules.h"
#include "matchers/matcher.h"

namespace yuqing::sets {

// A matchers::section_check: the diagnostics of the set's alert rules.
std::vector<common::diagnostic> check_sections(const matchers::keyword_set& set);

// matchers::compile_options with section_checks set (for load() and load_directory()).
matchers::compile_options checked_options(matchers::compile_options options = {});

// A set's text parsed with its alert rules checked.
matchers::load_result parse_set(const std::string& yaml, const std::string& file);

// The alert rules of a set (its text's `alerts:` section against its keyword rules).
alerting::rules_result alert_rules_of(const matchers::keyword_set& set);

// The alert rules of every set of a matcher, by set id.
std::shared_ptr<const alerting::rule_book> rule_book_of(const matchers::matcher& m);

}  // namespace yuqing::sets
