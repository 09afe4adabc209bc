// Keyword-set tuning: the backtest's counts, and the reloads of the keyword-set registry.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/clock.h"
#include "sets/backtest.h"
#include "sets/keyword_sets.h"
#include "tests/support/process.h"

using namespace yuqing;
using namespace yuqing::sets;
using yuqing::testing::temp_dir;

namespace {

std::shared_ptr<const matchers::compiled_set> compile(const std::string& yaml) {
  auto parsed = matchers::parse_keyword_set(yaml, "t.yaml");
  REQUIRE(parsed.ok());
  auto c = matchers::compiled_set::compile(*parsed.set);
  INFO(c.to_text());
  REQUIRE(c.ok());
  return c.set;
}

storage::message_record message(const std::string& id, int64_t time_ms, const std::string& text) {
  storage::message_record m;
  m.key = "posts/" + id;
  m.id = id;
  m.time_ms = time_ms;
  m.text = {{"title", ""}, {"content", text}};
  return m;
}

const rule_change& rule(const backtest_report& r, const std::string& id) {
  for (const auto& c : r.rules)
    if (c.rule == id) return c;
  FAIL("no rule " << id);
  throw std::logic_error("unreachable");
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("a backtest reports exactly the hits a candidate adds and removes", "[backtest]") {
  temp_dir dir;
  auto store = storage::store::open({dir.path / "db", false, false});
  REQUIRE(store.ok());
  storage::batch b;
  b.messages = {message("1", 5000, "江门疫情，传闻封城"),  // running: A B   candidate: A
                message("2", 5000, "疫情期间请戴口罩"),    // running: A     candidate: A C
                message("3", 6000, "药店口罩售罄"),        // running: -     candidate: C
                message("4", 7000, "封城是谣言"),          // running: B     candidate: -
                message("5", 8000, "今天天气很好"),        // nothing
                message("6", 1000, "去年的口罩与封城")};   // before the period
  REQUIRE((*store)->write(b).ok());

  backtest_request req;
  req.running = compile(R"(
id: s
rules:
  - {id: A, any: [疫情]}
  - {id: B, any: [封城]}
)");
  req.candidate = compile(R"(
id: s
rules:
  - {id: A, any: [疫情]}
  - {id: C, any: [口罩]}
)");
  req.since_ms = 2000;
  req.cpu_share = 1.0;
  std::vector<backtest_progress> seen;
  auto rep = run_backtest(**store, req, [&](const backtest_progress& p) {
    seen.push_back(p);
    return true;
  });
  REQUIRE(rep.ok());
  CHECK(rep->messages_scanned == 6);
  CHECK(rep->messages_in_period == 5);
  CHECK(rep->hits_running == 4);
  CHECK(rep->hits_candidate == 4);
  REQUIRE(rep->rules.size() == 3);
  CHECK(rule(*rep, "A").kept == 2);
  CHECK(rule(*rep, "A").added == 0);
  CHECK(rule(*rep, "A").removed == 0);
  CHECK(rule(*rep, "B").removed == 2);
  CHECK(rule(*rep, "B").added == 0);
  CHECK(rule(*rep, "C").added == 2);
  CHECK(rule(*rep, "C").removed == 0);
  REQUIRE(rule(*rep, "C").added_examples.size() == 2);
  CHECK(rule(*rep, "C").added_examples[0].message_key == "posts/2");
  CHECK(rule(*rep, "C").added_examples[0].text == "疫情期间请戴【口罩】");
  CHECK(rule(*rep, "B").removed_examples[1].text == "【封城】是谣言");
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back().scanned == 6);

  SECTION("a new set removes nothing") {
    req.running = nullptr;
    auto fresh = run_backtest(**store, req, {});
    REQUIRE(fresh.ok());
    CHECK(rule(*fresh, "A").added == 2);
    CHECK(rule(*fresh, "C").added == 2);
    CHECK(fresh->hits_running == 0);
  }
  SECTION("cancelling stops it") {
    auto cancelled = run_backtest(**store, req, [](const backtest_progress&) { return false; });
    CHECK_FALSE(cancelled.ok());
  }
  SECTION("the job runner runs it in the background") {
    backtest_jobs jobs(**store);
    auto id = jobs.start(req, "test");
    REQUIRE(id.ok());
    std::string state;
    REQUIRE(testing::eventually([&] {
      state = jobs.get(*id).value_or("");
      return state.find("\"state\":\"done\"") != std::string::npos;
    }, std::chrono::seconds(10)));
    CHECK(state.find("\"added\":2") != std::string::npos);
    CHECK_FALSE(jobs.get("bt-none").has_value());
  }
}

TEST_CASE("the registry reloads on change, keeps a broken file's set and records versions",
          "[keyword_sets]") {
  temp_dir dir;
  const auto sets = dir.path / "sets";
  std::filesystem::create_directories(sets);
  write_file(sets / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n");
  auto store = storage::store::open({dir.path / "db", false, false});
  REQUIRE(store.ok());
  metrics::registry m;
  sets::probe probe(m);
  system_clock clk;
  keyword_sets registry({sets, dir.path / "cache", 50, true}, store->get(), probe, clk);
  auto first = registry.load("startup");
  CHECK(first.ok);
  CHECK(first.changed);
  REQUIRE(registry.current()->sets().size() == 1);
  const auto v1 = registry.current()->sets()[0]->definition().version;
  REQUIRE(registry.start().ok());

  // An edit is picked up by the watch.
  write_file(sets / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\n");
  REQUIRE(testing::eventually([&] { return registry.current()->sets()[0]->definition().rules.size() == 2; },
                              std::chrono::seconds(5)));
  const auto v2 = registry.current()->sets()[0]->definition().version;
  // The version in force is exposed, the one before is gone.
  CHECK(m.expose().find("yuqing_keyword_set_version_info{set=\"a\",version=\"" + v2 + "\"} 1") != std::string::npos);
  CHECK(m.expose().find(v1) == std::string::npos);
  CHECK(m.expose().find("yuqing_keyword_set_rules{set=\"a\"} 2") != std::string::npos);

  // A broken edit keeps v2 in force and says where.
  write_file(sets / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: bad, regex: \"(\"}\n");
  auto broken = registry.request("test").get();
  CHECK_FALSE(broken.ok);
  CHECK_FALSE(broken.changed);
  REQUIRE(broken.errors.size() == 1);
  CHECK(broken.errors[0].find("a.yaml:4:") != std::string::npos);
  CHECK(broken.errors[0].find("[rule bad]") != std::string::npos);
  CHECK(registry.current()->sets()[0]->definition().version == v2);
  CHECK(m.expose().find("yuqing_keyword_set_version_info{set=\"a\",version=\"" + v2 + "\"} 1") != std::string::npos);
  CHECK(m.expose().find("yuqing_keyword_set_reloads_total{result=\"failed\"} 1") != std::string::npos);

  // An allow phrase added to the set silences the hit inside it.
  auto hits_on = [&](const std::string& text) {
    std::vector<matchers::hit> found;
    registry.current()->match({text}, found);
    return found.size();
  };
  write_file(sets / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\n");
  REQUIRE(registry.request("test").get().ok);
  CHECK(hits_on("疫情防控演练") == 1);
  write_file(sets / "a.yaml",
             "id: a\nallow: [疫情防控演练]\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\n");
  REQUIRE(registry.request("test").get().ok);
  CHECK(hits_on("疫情防控演练") == 0);
  CHECK(hits_on("疫情") == 1);
  write_file(sets / "a.yaml", "id: a\nrules:\n  - {id: r1, any: [疫情]}\n  - {id: r2, any: [封城]}\n");
  REQUIRE(registry.request("test").get().ok);

  // A second file is added, then the first is removed.
  write_file(sets / "b.yaml", "id: b\nrules:\n  - {id: r1, any: [口罩]}\n");
  std::filesystem::remove(sets / "a.yaml");
  REQUIRE(testing::eventually([&] {
    const auto now = registry.current()->sets();
    return now.size() == 1 && now[0]->definition().id == "b";
  }, std::chrono::seconds(5)));
  registry.stop();
  CHECK(m.expose().find("yuqing_keyword_set_version_info{set=\"a\"") == std::string::npos);
  CHECK(m.expose().find("yuqing_keyword_set_version_info{set=\"b\"") != std::string::npos);

  auto versions = (*store)->set_versions("a");
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 4);  // v1, v2, v2 with the allow phrase, v2 again
  CHECK((*versions)[0].version == v1);
  CHECK((*versions)[0].trigger == "startup");
  CHECK((*versions)[1].version == v2);
  CHECK((*versions)[1].trigger == "inotify");
  CHECK((*versions)[2].version != v2);
  CHECK((*versions)[3].version == v2);
  CHECK((*store)->set_versions("b")->size() == 1);

  // A restart with an unchanged file loads from the cache.
  keyword_sets again({sets, dir.path / "cache", 50, false}, store->get(), probe, clk);
  auto restarted = again.load("startup");
  REQUIRE(again.sets().size() == 1);
  CHECK(again.sets()[0].from_cache);
  CHECK((*store)->set_versions("b")->size() == 1);  // same version: not recorded again
}
