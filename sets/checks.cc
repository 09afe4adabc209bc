#include "sets/checks.h"

namespace yuqing::sets {

alerting::rules_result alert_rules_of(const matchers::keyword_set& set) {
  std::vector<std::string> ids;
  ids.reserve(set.rules.size());
  for (const auto& r : set.rules) ids.push_back(r.id);
  return alerting::parse_alert_rules(set.text, set.file, ids);
}

std::vector<common::diagnostic> check_sections(const matchers::keyword_set& set) {
  return alert_rules_of(set).diagnostics;
}

matchers::compile_options checked_options(matchers::compile_options options) {
  options.section_checks = check_sections;
  return options;
}

matchers::load_result parse_set(const std::string& yaml, const std::string& file) {
  return matchers::parse_keyword_set(yaml, file, check_sections);
}

std::shared_ptr<const alerting::rule_book> rule_book_of(const matchers::matcher& m) {
  auto book = std::make_shared<alerting::rule_book>();
  for (const auto& s : m.sets()) {
    const auto& d = s->definition();
    (*book)[d.id] = {d.name, alert_rules_of(d).rules};
  }
  return book;
}

}  // namespace yuqing::sets
