// A set checked whole (sets/checks.h): a broken alert rule refuses the set on every path
// that loads or compiles it, and the alert rules in force follow the sets in force.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/clock.h"
#include "sets/checks.h"
#include "sets/keyword_sets.h"
#include "tests/support/process.h"

using namespace yuqing;
using yuqing::testing::temp_dir;

namespace {

const std::string good = "id: a\nname: 甲\nrules:\n  - {id: r1, any: [疫情]}\nalerts:\n"
                         "  - {kind: immediate, min_severity: warning, level: red}\n";
const std::string broken = "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\nalerts:\n"
                           "  - {kind: threshold, window: 10m, count: 5, rule: r3}\n";
const std::string broken_error = "a.yaml:6:5: error: alert 'threshold-1': no rule 'r3' in this set";

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("a broken alert rule refuses the set on every path, and the rules in force follow the sets",
          "[keyword_sets][alerts]") {
  temp_dir dir;
  const auto sets_dir = dir.path / "sets";
  std::filesystem::create_directories(sets_dir);
  write_file(sets_dir / "a.yaml", good);

  // yuqingctl check and test: the directory and one file, with the checked options.
  write_file(dir.path / "a.yaml", broken);
  const auto checked = matchers::load_directory(dir.path / "a.yaml", sets::checked_options());
  CHECK(checked.error_count() == 1);
  CHECK_THAT(checked.to_text(), Catch::Contains(broken_error));
  CHECK(checked.sets->sets().empty());
  CHECK_FALSE(matchers::compiled_set::load(dir.path / "a.yaml", sets::checked_options()).ok());

  // The daemon's registry: loaded with its rules; a broken edit keeps the set and its
  // rules in force and says where; a fixed edit brings the new rules.
  metrics::registry m;
  sets::probe probe(m);
  system_clock clk;
  sets::keyword_sets registry({sets_dir, "", 50, false}, nullptr, probe, clk);
  REQUIRE(registry.load("startup").ok);
  auto book = registry.rules();
  REQUIRE(book->count("a") == 1);
  CHECK(book->at("a").name == "甲");
  REQUIRE(book->at("a").rules.size() == 1);
  CHECK(book->at("a").rules[0].level == alerting::alert_level::red);

  write_file(sets_dir / "a.yaml", broken);
  const auto refused = registry.load("test");
  CHECK_FALSE(refused.ok);
  REQUIRE(refused.errors.size() == 1);
  CHECK_THAT(refused.errors[0], Catch::Contains("a.yaml:6:5: error: alert 'threshold-1': no rule 'r3'"));
  CHECK(registry.current()->sets()[0]->definition().rules.size() == 1);
  CHECK(registry.rules() == book);

  write_file(sets_dir / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n");
  REQUIRE(registry.load("test").ok);
  REQUIRE(registry.rules()->count("a") == 1);
  CHECK(registry.rules()->at("a").rules.empty());

  // A set posted to the API (check, save, backtest) is compiled with the same checks.
  auto posted = matchers::parse_keyword_set(broken, "a.yaml");
  REQUIRE(posted.ok());  // the keyword rules alone are fine
  const auto compiled = registry.compile(*posted.set).get();
  CHECK_FALSE(compiled.ok());
  CHECK_THAT(compiled.to_text(), Catch::Contains(broken_error));
}
