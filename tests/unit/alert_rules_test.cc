// The alert rules of a set file: model and parser (alerting/rules.h).
#include <catch2/catch.hpp>

#include "alerting/rules.h"

using namespace yuqing::alerting;

TEST_CASE("alert rules are validated with their position", "[alerting][rules]") {
  const std::string head = "id: a\nrules:\n  - {id: r1, any: [疫情]}\nalerts:\n";
  auto errors = [&](const std::string& alerts) {
    std::string text;
    for (const auto& d : parse_alert_rules(head + alerts, "a.yaml", {"r1"}).diagnostics) text += d.to_text() + "\n";
    return text;
  };
  auto ok = parse_alert_rules(R"(id: a
rules:
  - {id: r1, any: [疫情]}
alerts:
  - {kind: threshold, window: 10m, count: 20, level: orange}
  - {kind: spike, window: 15m, baseline: 24h, factor: 3, min_count: 10, rule: r1}
  - {kind: immediate, min_severity: warning, level: red, id: now}
  - {kind: spread, window: 30m, distinct: source, count: 5, resolve_after: 1h}
)", "a.yaml", {"r1"});
  INFO(errors(""));
  REQUIRE(ok.ok());
  CHECK(ok.diagnostics.empty());
  const auto& a = ok.rules;
  REQUIRE(a.size() == 4);
  CHECK(a[0].id == "threshold-1");
  CHECK(a[0].level == alert_level::orange);
  CHECK(a[0].window_ms == 600000);
  CHECK(a[0].count == 20);
  CHECK(a[0].pos == yuqing::common::source_pos{5, 5});
  CHECK(a[1].baseline_ms == 86400000);
  CHECK(a[1].factor == 3);
  CHECK(a[1].count == 10);
  CHECK(a[1].rule == "r1");
  CHECK(a[2].id == "now");
  CHECK(a[2].min_severity == severity::warning);
  CHECK(a[3].distinct == "source");
  CHECK(a[3].resolve_after_ms == 3600000);

  CHECK_THAT(errors("  - {kind: threshold, window: 10x, count: 2}\n"),
             Catch::Contains("a.yaml:5:31: error: window: a duration like 90s, 10m, 24h or 7d, is '10x'"));
  CHECK_THAT(errors("  - {kind: threshold, window: 10m}\n"), Catch::Contains("needs count"));
  CHECK_THAT(errors("  - {kind: spike, window: 1h, baseline: 10m, factor: 2, min_count: 1}\n"),
             Catch::Contains("baseline must be at least as long as window"));
  CHECK_THAT(errors("  - {kind: immediate, level: purple}\n"), Catch::Contains("level must be"));
  CHECK_THAT(errors("  - {kind: immediate, rule: nope}\n"), Catch::Contains("a.yaml:5:5: error: alert 'immediate-1': no rule 'nope'"));
  CHECK_THAT(errors("  - {kind: immediate, count: 3}\n"),
             Catch::Contains("alert kind immediate has no parameter 'count'"));
  CHECK_THAT(errors("  - {kind: sometimes}\n"), Catch::Contains("a.yaml:5:12: error: unknown alert kind"));
  CHECK_THAT(errors("  - {kind: immediate, id: x}\n  - {kind: immediate, id: x}\n"),
             Catch::Contains("alert id 'x' is used twice"));
  CHECK_THAT(errors("  {kind: immediate}\n"), Catch::Contains("alerts: expected a list"));
  CHECK_THAT(errors("  - immediate\n"), Catch::Contains("a.yaml:5:5: error: an alert rule is a map with a kind"));
  CHECK_THAT(errors("  - {kind: immediate, id: immediate-2}\n  - {kind: immediate}\n"),
             Catch::Contains("a.yaml:6:5: error: alert id 'immediate-2' is used twice (the default id"));
  // Default ids are positions in the list, invalid entries counted; errors in file order.
  CHECK(errors("  - {kind: sometimes}\n  - {kind: threshold, window: 10m, count: 2, rule: nope}\n"
               "  - {kind: immediate, level: purple}\n") ==
        "a.yaml:5:12: error: unknown alert kind 'sometimes' (immediate, threshold, spike, spread)\n"
        "a.yaml:6:5: error: alert 'threshold-2': no rule 'nope' in this set\n"
        "a.yaml:7:30: error: level must be blue, yellow, orange or red, is 'purple'\n");
  // An error keeps the rule out; the valid rules beside it stay.
  const auto mixed = parse_alert_rules(head + "  - {kind: immediate, level: red}\n  - {kind: sometimes}\n", "a.yaml", {"r1"});
  CHECK_FALSE(mixed.ok());
  REQUIRE(mixed.rules.size() == 1);
  CHECK(mixed.rules[0].level == alert_level::red);
  // No alerts section: no rules, nothing to say.
  const auto none = parse_alert_rules("id: a\nrules:\n  - {id: r1, any: [疫情]}\n", "a.yaml", {"r1"});
  CHECK(none.ok());
  CHECK(none.rules.empty());
  CHECK(none.diagnostics.empty());
}
