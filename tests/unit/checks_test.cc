// A set checked whole (sets/checks.h): a broken alert rule refuses the set on every path
// that loads or compiles it, and the alert rules in force follow the sets in force.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

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

  // A set posted to the API (check, save, backtest, test) is parsed with the same checks;
  // the keyword rules alone are fine.
  CHECK(matchers::parse_keyword_set(broken, "a.yaml").ok());
  const auto posted = sets::parse_set(broken, "a.yaml");
  CHECK_FALSE(posted.ok());
  CHECK_THAT(posted.to_text(), Catch::Contains(broken_error));
  // A keyword error and an alert error come in one answer, in file order.
  const auto both = sets::parse_set("id: a\nrules:\n  - {id: r1, any: [abc], severity: urgent}\nalerts:\n"
                                    "  - {kind: immediate, min_severity: urgent}\n", "a.yaml");
  CHECK(both.error_count() == 2);
  CHECK_THAT(both.to_text(), Catch::Contains("a.yaml:3:36: error: [rule r1] severity must be"));
  CHECK_THAT(both.to_text(), Catch::Contains("a.yaml:5:37: error: min_severity must be info, warning or critical, is 'urgent'"));
}

TEST_CASE("a set file broken while the daemon was down: the restart puts the version recorded last in force",
          "[keyword_sets]") {
  temp_dir dir;
  const auto sets_dir = dir.path / "sets";
  std::filesystem::create_directories(sets_dir);
  write_file(sets_dir / "a.yaml", good);
  write_file(sets_dir / "b.yaml", "id: b\nrules:\n  - {id: r1, any: [口罩]}\n");
  auto store = storage::store::open({dir.path / "db", false, false});
  REQUIRE(store.ok());
  metrics::registry m;
  sets::probe probe(m);
  system_clock clk;
  std::string recorded;
  {
    sets::keyword_sets first({sets_dir, "", 50, false}, store->get(), probe, clk);
    REQUIRE(first.load("startup").ok);
    for (const auto& s : first.current()->sets())
      if (s->definition().id == "a") recorded = s->definition().version;
  }
  write_file(sets_dir / "a.yaml", broken);
  write_file(sets_dir / "b.yaml", "id: b\nrules:\n  - {id: r1, anyy: [口罩]}\n");
  write_file(sets_dir / "c.yaml", "id: c\nrules:\n  - {id: r1, anyy: [口罩]}\n");  // never loaded

  sets::keyword_sets again({sets_dir, "", 50, false}, store->get(), probe, clk);
  const auto restarted = again.load("startup");
  CHECK_FALSE(restarted.ok);  // the errors are still reported
  CHECK(restarted.errors.size() == 5);  // b and c have two each
  std::map<std::string, std::string> in_force;
  for (const auto& s : again.current()->sets()) in_force[s->definition().id] = s->definition().version;
  CHECK(in_force.size() == 2);  // a and b as recorded; c has no recorded version
  CHECK(in_force["a"] == recorded);
  CHECK(again.rules()->at("a").rules.size() == 1);  // its alert rules too

  // Fixed, the file's own version replaces the recorded one.
  write_file(sets_dir / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\n");
  REQUIRE(again.load("SIGHUP").errors.size() == 4);
  CHECK(again.current()->sets().size() == 2);  // b kept
  for (const auto& s : again.current()->sets())
    if (s->definition().id == "a") CHECK(s->definition().rules.size() == 2);
}
