// Tuning keyword sets on a running daemon: edits under a full-speed stream (inotify
// reloads, a broken edit), the bearer token, a backtest and the noisy-rules view through
// yuqingctl, and a restart that loads from the Hyperscan cache.
#include <catch2/catch.hpp>
#include <csignal>
#include <map>

#include "matchers/keyword_set.h"
#include "storage/store.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string version_of(const std::string& yaml) {
  auto parsed = yuqing::matchers::parse_keyword_set(yaml, "s.yaml");
  REQUIRE(parsed.ok());
  return parsed.set->version;
}

}  // namespace

TEST_CASE("keyword sets edited under a full-speed stream: nothing lost, nothing matched twice",
          "[integration][tuning]") {
  temp_dir dir;
  const auto sets = dir.path / "sets";
  std::filesystem::create_directories(sets);
  const auto set_file = sets / "s.yaml";
  const std::string token = "t0ken-for-tests";
  // Every message contains every keyword, so the rules that hit it name the version.
  const std::vector<std::string> versions = {
      "id: s\nrules:\n  - {id: A, any: [疫情]}\n",
      "id: s\nrules:\n  - {id: A, any: [疫情]}\n  - {id: B, any: [封城]}\n",
      "id: s\nrules:\n  - {id: A, any: [疫情]}\n  - {id: C, any: [口罩]}\n",
      "id: s\nrules:\n  - {id: A, any: [疫情]}\n  - {id: C, any: [口罩]}\n  - {id: D, any: [江门]}\n",
  };
  const std::map<std::string, std::string> rules_of = {
      {version_of(versions[0]), "A"}, {version_of(versions[1]), "AB"},
      {version_of(versions[2]), "AC"}, {version_of(versions[3]), "ACD"}};
  std::map<std::string, int> order;  // version -> its index in `versions`
  for (size_t i = 0; i < versions.size(); ++i) order[version_of(versions[i])] = static_cast<int>(i);
  const std::string broken =
      "id: s\nrules:\n  - {id: A, any: [疫情]}\n  - {id: B, any: [封城]}\n  - {id: bad, regex: \"(\"}\n";
  write_file(set_file, versions[0]);

  daemon_process daemon(dir.path / "d", "channels:\n  - {name: posts, topic: yuqing.posts}\n", sets,
                        ", settle_ms: 200", ", token: " + token);
  const uint16_t port = daemon.port();
  const std::string bootstrap = daemon.start();

  const int phases = 5, per_phase = 6000;
  auto produce_phase = [&](int phase) {
    std::string lines;
    for (int i = 0; i < per_phase; ++i) {
      const int n = phase * per_phase + i;
      lines += "{\"id\":\"m" + std::to_string(n) + "\",\"content\":\"第" + std::to_string(n) +
               "条：江门疫情，传闻封城，口罩告急\"}\n";
    }
    const auto file = dir.path / ("phase" + std::to_string(phase) + ".jsonl");
    write_file(file, lines);
    REQUIRE(shell("kcat -P -b " + bootstrap + " -t yuqing.posts -l " + file.string()).first == 0);
  };
  auto running_version = [&] {
    const auto j = json::parse(http_get(port, "/api/v1/keyword-sets").body);
    return j["sets"].empty() ? std::string() : j["sets"][0]["version"].get<std::string>();
  };
  // Writes the set file and waits until the daemon runs it; returns the seconds it took.
  auto edit = [&](const std::string& text) {
    const auto t0 = std::chrono::steady_clock::now();
    write_file(set_file, text);
    REQUIRE(eventually([&] { return running_version() == version_of(text); }, 10s));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  // phase_version[p]: index of the version in force when phase p was produced.
  const std::vector<int> phase_version = {0, 1, 1, 2, 3};
  std::vector<double> took;
  produce_phase(0);
  took.push_back(edit(versions[1]));
  produce_phase(1);

  // The broken edit: rejected with file, line, column and rule; the old set keeps matching.
  write_file(set_file, broken);
  REQUIRE(eventually([&] {
    return metric(daemon.metrics(), "yuqing_keyword_set_reloads_total{result=\"failed\"}") == 1;
  }, 10s));
  const auto after_broken = json::parse(http_get(port, "/api/v1/keyword-sets").body);
  CHECK(after_broken["sets"][0]["version"] == version_of(versions[1]));
  REQUIRE(after_broken["last_reload"]["errors"].size() == 1);
  const std::string error = after_broken["last_reload"]["errors"][0];
  CHECK(error.find(set_file.string() + ":5:") != std::string::npos);
  CHECK(error.find("[rule bad]") != std::string::npos);
  // Asked again, it is refused again (422) but not logged again.
  const auto again = http_post(port, "/api/v1/keyword-sets/reload", "", token);
  CHECK(again.status == 422);
  CHECK(again.body.find("[rule bad]") != std::string::npos);
  produce_phase(2);
  took.push_back(edit(versions[2]));
  produce_phase(3);
  took.push_back(edit(versions[3]));
  produce_phase(4);

  const int total = phases * per_phase;
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"].get<int>() == total; }, 120s));
  for (double s : took) {
    WARN("an edit took " << s << " s to take effect");
    CHECK(s <= 2.0);
  }

  // The bearer token guards the POST endpoints.
  CHECK(http_post(port, "/api/v1/keyword-sets/reload", "").status == 401);
  CHECK(http_post(port, "/api/v1/keyword-sets/reload", "", "wrong").status == 401);
  CHECK(http_post(port, "/api/v1/keyword-sets/reload", "", token).status == 200);
  const auto dry = http_post(port, "/api/v1/test", R"({"text":"江门疫情"})", token);
  REQUIRE(dry.status == 200);
  CHECK(json::parse(dry.body)["hits"].size() == 2);  // A and D
  CHECK(json::parse(dry.body)["hits"][0]["highlighted"] == "江门【疫情】");
  const auto dry_posted = http_post(port, "/api/v1/test",
                                    json{{"text", "防疫演练不是疫情"},
                                         {"set", "id: x\nallow: [防疫演练]\nrules:\n  - {id: y, any: [疫]}\n"}}.dump(),
                                    token);
  REQUIRE(dry_posted.status == 200);
  CHECK(json::parse(dry_posted.body)["against"] == "posted");
  CHECK(json::parse(dry_posted.body)["hits"][0]["highlighted"] == "防疫演练不是【疫】情");
  CHECK(http_post(port, "/api/v1/test", json{{"text", "x"}, {"set", "rules: ["}}.dump(), token).status == 400);

  // The noisy-rules view and the per-rule counter.
  const auto [rc_rules, rules_out] = shell(std::string(YUQINGCTL) + " rules --top 3 --json --url 127.0.0.1:" +
                                            std::to_string(port) + " --token " + token);
  REQUIRE(rc_rules == 0);
  const auto top = json::parse(rules_out);
  CHECK(top["rules"][0]["rule"] == "A");
  CHECK(top["rules"][0]["hits"] == total);
  CHECK(metric(daemon.metrics(), "yuqing_rule_hits_total{rule=\"A\",set=\"s\"}") == total);

  // A backtest through yuqingctl: the candidate removes D and adds E (江门 again, by regex).
  write_file(dir.path / "candidate.yaml",
             "id: s\nrules:\n  - {id: A, any: [疫情]}\n  - {id: C, any: [口罩]}\n  - {id: E, regex: \"第[0-9]+条\"}\n");
  const auto [rc_bt, bt_out] = shell(std::string(YUQINGCTL) + " backtest --json --since 1h --set " +
                                     (dir.path / "candidate.yaml").string() + " --url 127.0.0.1:" +
                                     std::to_string(port) + " --token " + token);
  REQUIRE(rc_bt == 0);
  const auto report = json::parse(bt_out);
  CHECK(report["messages_in_period"] == total);
  std::map<std::string, json> by_rule;
  for (const auto& r : report["rules"]) by_rule[r["rule"]] = r;
  CHECK(by_rule["A"]["kept"] == total);
  CHECK(by_rule["D"]["removed"] == total);
  CHECK(by_rule["E"]["added"] == total);
  CHECK(by_rule["E"]["added_examples"][0]["text"].get<std::string>().find("【第") != std::string::npos);

  // A restart with the unchanged set loads it from the cache.
  REQUIRE(daemon.stop() == 0);
  {
    auto store = yuqing::storage::store::open({daemon.data(), false, true});
    REQUIRE(store.ok());
    yuqing::storage::hit_query q;
    q.limit = std::numeric_limits<size_t>::max();
    auto hits = (*store)->hits(q);
    REQUIRE(hits.ok());
    // Per message: the rules that hit it and the versions that produced them.
    std::map<std::string, std::pair<std::string, std::set<std::string>>> per_message;
    for (const auto& h : *hits) {
      auto& [rules, versions_seen] = per_message[h.message_key];
      rules += h.rule_id;
      versions_seen.insert(h.set_version);
    }
    CHECK(per_message.size() == static_cast<size_t>(total));  // every message matched
    std::map<std::string, int> messages_per_version;
    int mixed = 0, wrong = 0, too_old = 0;
    for (const auto& [key, entry] : per_message) {
      auto [rules, seen] = entry;
      std::sort(rules.begin(), rules.end());
      if (seen.size() != 1) {
        ++mixed;  // matched by two versions: matched twice
        continue;
      }
      const auto& v = *seen.begin();
      if (!rules_of.count(v) || rules_of.at(v) != rules) ++wrong;
      ++messages_per_version[v];
      // A message produced after an edit took effect is matched by that version or a later one.
      const int n = std::stoi(key.substr(key.find("/m") + 2));
      if (order.at(v) < phase_version[static_cast<size_t>(n / per_phase)]) ++too_old;
    }
    CHECK(mixed == 0);
    CHECK(wrong == 0);
    CHECK(too_old == 0);
    CHECK(messages_per_version.size() >= 2);
    CHECK(messages_per_version.count(version_of(versions[3])) == 1);
  }
  daemon.start();
  const auto restarted = json::parse(http_get(port, "/api/v1/keyword-sets").body);
  CHECK(restarted["sets"][0]["from_cache"] == true);
  CHECK(restarted["sets"][0]["versions"].size() == 4);  // v1..v4; the broken edit is no version
  REQUIRE(daemon.stop() == 0);
  const std::string log = daemon.log();
  // The broken file was logged once, though it was in place for two reloads.
  size_t rejected = 0;
  for (size_t at = 0; (at = log.find("event=keyword_set_rejected", at)) != std::string::npos; ++at) ++rejected;
  CHECK(rejected == 1);
}

TEST_CASE("a set file replaced by a link out of the directory, a directory or a dangling link keeps its set",
          "[integration][tuning][hostile]") {
  temp_dir dir;
  const auto sets = dir.path / "sets";
  std::filesystem::create_directories(sets);
  const std::string token = "t0ken-for-tests";
  // Outside the directory, secret-looking lines in the form of a valid set: read, it would
  // replace set a and show its name.
  const auto outside = dir.path / "shadow";
  write_file(outside, "id: a\nname: 'root:$6$s3cr3tHASH:19000:0:99999'\nrules:\n  - {id: leak, any: [hunter2pw]}\n");
  for (const std::string id : {"a", "b", "c"})
    write_file(sets / (id + ".yaml"), "id: " + id + "\nrules:\n  - {id: r, any: [疫情]}\n");
  daemon_process daemon(dir.path / "d", "channels:\n  - {name: posts, topic: yuqing.posts}\n", sets,
                        ", watch: false", ", token: " + token);
  daemon.start();
  auto versions = [&] {
    std::map<std::string, std::string> v;
    const auto j = json::parse(http_get(daemon.port(), "/api/v1/keyword-sets").body);
    for (const auto& s : j["sets"]) v[s["id"]] = s["version"];
    return v;
  };
  const auto before = versions();
  REQUIRE(before.size() == 3);

  std::filesystem::remove(sets / "a.yaml");
  std::filesystem::create_symlink(outside, sets / "a.yaml");
  std::filesystem::remove(sets / "b.yaml");
  std::filesystem::create_directory(sets / "b.yaml");
  std::filesystem::remove(sets / "c.yaml");
  std::filesystem::create_symlink(dir.path / "gone.yaml", sets / "c.yaml");
  const auto reload = http_post(daemon.port(), "/api/v1/keyword-sets/reload", "", token);
  INFO(reload.body);
  CHECK(reload.status == 422);
  const auto errors = json::parse(reload.body)["errors"];
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].get<std::string>().starts_with((sets / "a.yaml").string() + ": error: a link that leads out"));
  CHECK(errors[1].get<std::string>().starts_with((sets / "b.yaml").string() + ": error: not a regular file"));
  CHECK(errors[2].get<std::string>().starts_with((sets / "c.yaml").string() + ": error: a link that leads nowhere"));
  CHECK(versions() == before);  // each keeps the set it had

  const auto api = http_get(daemon.port(), "/api/v1/keyword-sets").body;
  REQUIRE(daemon.stop() == 0);
  for (const auto& text : {api, daemon.log()}) {
    CHECK(text.find("s3cr3t") == std::string::npos);
    CHECK(text.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("a regex that compiles for minutes: stopped at the time limit, /healthz answers meanwhile, never compiled twice",
          "[integration][tuning][hostile]") {
  temp_dir dir;
  const auto sets = dir.path / "sets";
  std::filesystem::create_directories(sets);
  const std::string token = "t0ken-for-tests";
  write_file(sets / "s.yaml", "id: s\nrules:\n  - {id: A, any: [疫情]}\n");
  // Hyperscan spends over a minute on this regex.
  const std::string slow =
      "id: slow\nrules:\n  - {id: fast, any: [江门]}\n  - id: slow\n    regex: '.{0,5000}疫情.{0,5000}江门'\n";
  daemon_process daemon(dir.path / "d", "channels:\n  - {name: posts, topic: yuqing.posts}\n", sets,
                        ", watch: false, compile_time_limit_ms: 4000", ", token: " + token);
  daemon.start();
  const uint16_t port = daemon.port();
  const std::string posted = json{{"text", "江门疫情"}, {"set", slow}}.dump();
  auto refused = [&](const std::string& log) {
    return log.find("event=posted_set_refused") != std::string::npos;
  };

  // Posted: the handler waits a second for the compile, then says it is still compiling.
  const auto first = http_post(port, "/api/v1/test", posted, token);
  CHECK(first.status == 202);
  CHECK(json::parse(first.body)["state"] == "compiling");
  CHECK(http_get(port, "/healthz").status == 200);
  CHECK_FALSE(refused(daemon.log()));  // the compile was still running when /healthz answered
  http_result done;
  REQUIRE(eventually([&] {
    done = http_post(port, "/api/v1/test", posted, token);
    return done.status != 202;
  }, 60s));
  INFO(done.body);
  CHECK(done.status == 400);
  CHECK(done.body.find("(posted):5:12: error: [rule slow] the compile took longer than the time limit of 4000 ms") !=
        std::string::npos);
  // Asked again, by a dry run or a backtest: the same refusal at once, not a second compile.
  const auto again = http_post(port, "/api/v1/test", posted, token);
  CHECK(again.status == 400);
  CHECK(again.body.find("[rule slow] the compile took longer") != std::string::npos);
  const auto backtest = http_post(port, "/api/v1/backtest", json{{"set", slow}, {"since", "1h"}}.dump(), token);
  CHECK(backtest.status == 400);
  CHECK(backtest.body.find("[rule slow] the compile took longer") != std::string::npos);

  // The same set as a file: the reload (SIGHUP, on the keyword-set thread) refuses it and
  // keeps what runs; the next reload reports the remembered failure without compiling.
  write_file(sets / "slow.yaml", slow + "# another content: compiled once more\n");
  const std::string rejected = "event=keyword_set_rejected trigger=SIGHUP " + (sets / "slow.yaml").string() +
                               ":5:12: error: [rule slow] the compile took longer";
  daemon.signal(SIGHUP);
  CHECK(http_get(port, "/healthz").status == 200);
  CHECK(daemon.log().find(rejected) == std::string::npos);  // answered before the reload ended
  REQUIRE(eventually([&] { return daemon.log().find(rejected) != std::string::npos; }, 60s));
  auto sets_now = json::parse(http_get(port, "/api/v1/keyword-sets").body);
  REQUIRE(sets_now["sets"].size() == 1);
  CHECK(sets_now["sets"][0]["id"] == "s");
  const auto second = http_post(port, "/api/v1/keyword-sets/reload", "", token);
  INFO(second.body);
  CHECK(second.status == 422);
  CHECK(second.body.find("remembered: this content is not compiled again") != std::string::npos);
  REQUIRE(daemon.stop() == 0);
  const auto log = daemon.log();
  CHECK(log.find("event=posted_set_refused") == log.rfind("event=posted_set_refused"));  // one compile
}
