// The keyword-set file API on a running daemon (check, save, versions, diff, rollback, the
// per-rule hit counts), `yuqingctl sets versions|diff|rollback`, and the hit search filters
// with excerpts: each with its happy path and its bad input.
#include <catch2/catch.hpp>

#include <array>
#include <fstream>

#include "matchers/keyword_set.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string token = "sets-admin-token";
// http.people: an analyst and a viewer (printf %s TOKEN | sha256sum).
const std::string analyst_token = "analyst-token", viewer_token = "viewer-token";
const std::vector<std::array<std::string, 4>> people = {
    {"王五", "情报科", "analyst", "06ff3913469cdb533bd93c0701fee774bbf18c48e01cdfc413a17b69dbea0764"},
    {"李四", "宣传科", "viewer", "d036bd6d01a1cae081d39a2f8dab751dc042de814fd60df31fcb553170950f29"}};

const std::string v1 = "id: s\nname: 测试集\ntopic: epidemic\nrules:\n  - {id: A, any: [疫情]}\n";
const std::string v2 = "id: s\nname: 测试集\ntopic: epidemic\nrules:\n  - {id: A, any: [疫情]}\n  - {id: B, any: [封城]}\n";
const std::string typo = "id: s\nname: 测试集\ntopic: epidemic\nrules:\n  - {id: A, any: [疫情]}\n  - {id: B, anyy: [封城]}\n";

std::string version_of(const std::string& yaml) {
  auto parsed = yuqing::matchers::parse_keyword_set(yaml, "s.yaml");
  REQUIRE(parsed.ok());
  return parsed.set->version;
}

json body_of(const http_result& r) {
  INFO(r.body);
  auto j = json::parse(r.body, nullptr, false);
  REQUIRE(!j.is_discarded());
  return j;
}

std::string error_of(const http_result& r) { return body_of(r).value("error", ""); }

// Hits hold citizens' texts: reading them takes a token (a viewer's is enough).
http_result viewer_get(uint16_t port, const std::string& target) { return http_post(port, target, "", viewer_token, "GET"); }

struct sets_daemon {
  temp_dir dir;
  std::filesystem::path sets = dir.path / "sets";
  std::optional<daemon_process> d;
  uint16_t port = 0;
  std::string bootstrap;
  sets_daemon() {
    std::filesystem::create_directories(sets);
    write_file(sets / "s.yaml", v1);
    std::string yaml = "people:\n";
    for (const auto& [name, unit, role, sha] : people)
      yaml += "  - {name: " + name + ", unit: " + unit + ", role: " + role + ", token_sha256: " + sha + "}\n";
    write_file(dir.path / "people.yaml", yaml);
    d.emplace(dir.path / "d", "channels:\n  - {name: posts, topic: yuqing.posts}\n", sets, ", settle_ms: 100",
              ", token: " + token + ", people: " + (dir.path / "people.yaml").string());
    bootstrap = d->start();
    port = d->port();
  }
  std::string running_version() const {
    const auto j = json::parse(http_get(port, "/api/v1/keyword-sets").body);
    for (const auto& s : j["sets"])
      if (s["id"] == "s") return s["version"];
    return "";
  }
  http_result put(const std::string& target, const std::string& text, const std::string& who = analyst_token) {
    return http_post(port, target, text, who, "PUT");
  }
};

}  // namespace

TEST_CASE("set API: a check gives errors and warnings at their line, and refuses bad input", "[integration][sets_api]") {
  sets_daemon t;
  const auto bad = http_post(t.port, "/api/v1/keyword-sets/check", typo, analyst_token);
  REQUIRE(bad.status == 200);
  const auto j = body_of(bad);
  CHECK_FALSE(j["ok"].get<bool>());
  REQUIRE(j["errors"].get<int>() >= 1);
  const auto& first = j["diagnostics"][0];
  CHECK(first["line"] == 6);
  CHECK(first["column"].get<int>() > 0);
  CHECK(first["rule"] == "B");
  CHECK(first["severity"] == "error");
  CHECK(first["message"].get<std::string>().find("anyy") != std::string::npos);

  const auto good = body_of(http_post(t.port, "/api/v1/keyword-sets/check", v2, analyst_token));
  CHECK(good["ok"].get<bool>());
  CHECK(good["version"] == version_of(v2));
  CHECK(good["rules"] == 2);

  // A regex Hyperscan refuses is found by the compile, as `yuqingctl check` finds it.
  const auto regex = body_of(http_post(t.port, "/api/v1/keyword-sets/check",
                                       "id: r\nrules:\n  - {id: R, regex: \"(\"}\n", analyst_token));
  CHECK_FALSE(regex["ok"].get<bool>());
  CHECK(regex["diagnostics"][0]["rule"] == "R");
  CHECK(regex["diagnostics"][0]["line"] == 3);

  // A broken alert rule is refused as a broken keyword is, at its line: by the API and by
  // `yuqingctl check` (the alert rules are alerting's, checked beside the matcher's).
  const std::string alert_typo =
      "id: r\nrules:\n  - {id: R, any: [疫情]}\nalerts:\n  - {kind: threshold, window: 10m, count: 5, rule: Q}\n";
  const auto alert = body_of(http_post(t.port, "/api/v1/keyword-sets/check", alert_typo, analyst_token));
  CHECK_FALSE(alert["ok"].get<bool>());
  REQUIRE(alert["diagnostics"].size() == 1);
  CHECK(alert["diagnostics"][0]["line"] == 5);
  CHECK(alert["diagnostics"][0]["message"] == "alert 'threshold-1': no rule 'Q' in this set");
  std::ofstream(t.dir.path / "r.yaml") << alert_typo;
  const auto [check_rc, check_out] = shell(std::string(YUQINGCTL) + " check " + (t.dir.path / "r.yaml").string() + " 2>&1");
  CHECK(check_rc != 0);
  CHECK_THAT(check_out, Catch::Contains("r.yaml:5:5: error: alert 'threshold-1': no rule 'Q' in this set"));

  const auto empty = http_post(t.port, "/api/v1/keyword-sets/check", "", analyst_token);
  CHECK(empty.status == 400);
  CHECK(error_of(empty).rfind("body:", 0) == 0);
  CHECK(http_post(t.port, "/api/v1/keyword-sets/check", v2).status == 401);
  CHECK(http_post(t.port, "/api/v1/keyword-sets/check", v2, viewer_token).status == 403);
}

TEST_CASE("set API: a save with a typo is refused and the set in force stays, a good save reloads",
          "[integration][sets_api]") {
  sets_daemon t;
  const auto v1_hash = version_of(v1), v2_hash = version_of(v2);
  REQUIRE(t.running_version() == v1_hash);

  const auto broken = t.put("/api/v1/keyword-sets/s", typo);
  REQUIRE(broken.status == 422);
  CHECK(body_of(broken)["diagnostics"][0]["line"] == 6);
  CHECK(t.running_version() == v1_hash);
  CHECK(read_file(t.sets / "s.yaml") == v1);

  const auto saved = t.put("/api/v1/keyword-sets/s?base=" + v1_hash, v2);
  REQUIRE(saved.status == 200);
  CHECK(body_of(saved)["version"] == v2_hash);
  CHECK(body_of(saved)["previous"] == v1_hash);
  CHECK(t.running_version() == v2_hash);
  CHECK(read_file(t.sets / "s.yaml") == v2);
  // Nothing but the set file is left in the directory (the temporary file was renamed).
  CHECK(std::distance(std::filesystem::directory_iterator(t.sets), std::filesystem::directory_iterator()) == 1);

  // Saved on a version no longer in force: refused, naming base.
  const auto stale = t.put("/api/v1/keyword-sets/s?base=" + v1_hash, v1);
  CHECK(stale.status == 409);
  CHECK(error_of(stale).rfind("base:", 0) == 0);
  CHECK(t.put("/api/v1/keyword-sets/s?bse=1", v1).status == 400);
  CHECK(error_of(t.put("/api/v1/keyword-sets/-s", v1)).rfind("NAME:", 0) == 0);
  CHECK(error_of(t.put("/api/v1/keyword-sets/other", v1)).rfind("id:", 0) == 0);
  CHECK(error_of(t.put("/api/v1/keyword-sets/s", "")).rfind("body:", 0) == 0);
  CHECK(t.put("/api/v1/keyword-sets/s", v1, "").status == 401);
  CHECK(t.put("/api/v1/keyword-sets/s", v1, viewer_token).status == 403);
  CHECK(t.running_version() == v2_hash);

  // A new set is written as NAME.yaml and loaded.
  const auto fresh = t.put("/api/v1/keyword-sets/n", "id: n\nrules:\n  - {id: X, any: [拆迁]}\n");
  REQUIRE(fresh.status == 200);
  CHECK(std::filesystem::exists(t.sets / "n.yaml"));
}

TEST_CASE("set API: a file broken while the daemon was down keeps the version recorded last in force, a save repairs that file",
          "[integration][sets_api]") {
  sets_daemon t;
  const auto v1_hash = version_of(v1), v2_hash = version_of(v2);
  REQUIRE(t.running_version() == v1_hash);
  REQUIRE(t.d->stop() == 0);
  // Edited by hand while the daemon was down, and under a name that is not the set's id.
  std::filesystem::remove(t.sets / "s.yaml");
  write_file(t.sets / "epidemic.yaml", typo);
  t.d->start();
  t.port = t.d->port();
  CHECK(t.running_version() == v1_hash);
  CHECK(t.d->log().find("event=keyword_set_kept set=s version=" + v1_hash) != std::string::npos);
  CHECK(t.d->log().find("epidemic.yaml:6:") != std::string::npos);  // the error is still reported

  // A save goes to the file that declares the set, not to a second file s.yaml.
  const auto saved = t.put("/api/v1/keyword-sets/s", v2);
  REQUIRE(saved.status == 200);
  CHECK(t.running_version() == v2_hash);
  CHECK(read_file(t.sets / "epidemic.yaml") == v2);
  CHECK_FALSE(std::filesystem::exists(t.sets / "s.yaml"));
}

TEST_CASE("set API: versions with who saved them, a version's text, a diff and a rollback",
          "[integration][sets_api]") {
  sets_daemon t;
  const auto v1_hash = version_of(v1), v2_hash = version_of(v2);
  REQUIRE(t.put("/api/v1/keyword-sets/s", v2).status == 200);

  auto versions = body_of(http_get(t.port, "/api/v1/keyword-sets/s/versions"));
  REQUIRE(versions["versions"].size() == 2);
  CHECK(versions["versions"][0]["number"] == 2);
  CHECK(versions["versions"][0]["version"] == v2_hash);
  CHECK(versions["versions"][0]["who"] == "王五（情报科）");
  CHECK(versions["versions"][0]["in_force"] == true);
  CHECK(versions["versions"][0]["time"].get<std::string>().find('+') != std::string::npos);
  CHECK(versions["versions"][1]["version"] == v1_hash);
  CHECK(versions["versions"][1]["who"] == "");

  CHECK(body_of(http_get(t.port, "/api/v1/keyword-sets/s/versions/1"))["text"] == v1);
  CHECK(body_of(http_get(t.port, "/api/v1/keyword-sets/s/versions/" + v2_hash))["text"] == v2);
  const auto unknown = http_get(t.port, "/api/v1/keyword-sets/s/versions/3");
  CHECK(unknown.status == 404);
  CHECK(error_of(unknown).rfind("V:", 0) == 0);
  CHECK(http_get(t.port, "/api/v1/keyword-sets/nope/versions").status == 404);

  const auto diff = body_of(http_get(t.port, "/api/v1/keyword-sets/s/diff?from=1&to=2"));
  CHECK(diff["added"] == 1);
  CHECK(diff["removed"] == 0);
  const std::string unified = diff["unified"];
  CHECK(unified.find("@@ -3,3 +3,4 @@\n") != std::string::npos);
  CHECK(unified.find("\n+  - {id: B, any: [封城]}\n") != std::string::npos);
  CHECK(error_of(http_get(t.port, "/api/v1/keyword-sets/s/diff?from=1")).rfind("to:", 0) == 0);
  CHECK(error_of(http_get(t.port, "/api/v1/keyword-sets/s/diff?from=1&to=2&x=1")).rfind("x:", 0) == 0);
  const auto missing = http_get(t.port, "/api/v1/keyword-sets/s/diff?from=9&to=2");
  CHECK(missing.status == 404);
  CHECK(error_of(missing).rfind("from:", 0) == 0);

  const auto back = http_post(t.port, "/api/v1/keyword-sets/s/rollback", R"({"version": 1})", analyst_token);
  REQUIRE(back.status == 200);
  CHECK(body_of(back)["version"] == v1_hash);
  CHECK(t.running_version() == v1_hash);
  CHECK(read_file(t.sets / "s.yaml") == v1);
  versions = body_of(http_get(t.port, "/api/v1/keyword-sets/s/versions"));
  REQUIRE(versions["versions"].size() == 3);
  CHECK(versions["versions"][0]["version"] == v1_hash);
  CHECK(versions["versions"][0]["trigger"].get<std::string>().find("rollback to #1") != std::string::npos);

  CHECK(error_of(http_post(t.port, "/api/v1/keyword-sets/s/rollback", R"({"version": []})", analyst_token))
            .rfind("version:", 0) == 0);
  CHECK(http_post(t.port, "/api/v1/keyword-sets/s/rollback", R"({"version": "ffff"})", analyst_token).status == 404);
  CHECK(http_post(t.port, "/api/v1/keyword-sets/s/rollback", R"({"version": 1})", viewer_token).status == 403);

  // The same through yuqingctl.
  const std::string ctl = std::string(YUQINGCTL) + " sets ";
  const std::string api = " --url 127.0.0.1:" + std::to_string(t.port) + " --token " + analyst_token;
  const auto listed = shell(ctl + "versions s" + api);
  CHECK(listed.first == 0);
  CHECK(listed.second.find("王五（情报科）") != std::string::npos);
  const auto diffed = shell(ctl + "diff s --from 1 --to 2" + api + " 2>/dev/null");
  CHECK(diffed.first == 0);
  CHECK(diffed.second.find("+  - {id: B, any: [封城]}") != std::string::npos);
  CHECK(shell(ctl + "rollback s --version " + v2_hash + api + " >/dev/null").first == 0);
  CHECK(t.running_version() == v2_hash);
  CHECK(shell(ctl + "diff s --from '1 2' --to 2" + api + " 2>/dev/null").first != 0);
}

TEST_CASE("set API: a set's rules with hits over 24 h and 7 d, and the hit search with filters and excerpts",
          "[integration][sets_api]") {
  sets_daemon t;
  REQUIRE(t.put("/api/v1/keyword-sets/s", v2).status == 200);
  const auto file = t.dir.path / "m.jsonl";
  write_file(file,
             "{\"id\":\"m1\",\"content\":\"蓬江区出现疫情，<b>注意</b>\",\"region\":\"蓬江区\"}\n"
             "{\"id\":\"m2\",\"content\":\"传闻封城，新会区疫情\",\"region\":\"新会区\"}\n"
             "{\"id\":\"m3\",\"content\":\"今天天气好\",\"region\":\"蓬江区\"}\n");
  REQUIRE(shell("kcat -P -b " + t.bootstrap + " -t yuqing.posts -l " + file.string()).first == 0);
  REQUIRE(eventually([&] { return t.d->status()["counters"]["consumed"].get<int>() == 3; }, 30s));

  const auto set = body_of(http_get(t.port, "/api/v1/keyword-sets/s"));
  CHECK(set["text"] == v2);
  REQUIRE(set["rules"].size() == 2);
  CHECK(set["rules"][0]["id"] == "A");
  CHECK(set["rules"][0]["hits_24h"] == 2);
  CHECK(set["rules"][0]["hits_7d"] == 2);
  CHECK(set["rules"][1]["hits_7d"] == 1);
  CHECK(set["rules"][1]["any"][0] == "封城");
  CHECK(http_get(t.port, "/api/v1/keyword-sets/nope").status == 404);

  const auto region = body_of(viewer_get(t.port, "/api/v1/hits?region=%E8%93%AC%E6%B1%9F%E5%8C%BA&excerpt=1"));
  REQUIRE(region["hits"].size() == 1);
  const auto& hit = region["hits"][0];
  CHECK(hit["message_key"] == "yuqing.posts/m1");
  CHECK(hit["context"]["region"] == "蓬江区");
  const auto& pieces = hit["context"]["excerpt"];
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[1]["text"] == "疫情");
  CHECK(pieces[1]["hit"] == true);
  CHECK(pieces[2]["text"] == "，<b>注意</b>");

  CHECK(body_of(viewer_get(t.port, "/api/v1/hits?rule=B"))["hits"].size() == 1);
  CHECK(body_of(viewer_get(t.port, "/api/v1/hits?rule=A&channel=posts"))["hits"].size() == 2);
  CHECK(body_of(viewer_get(t.port, "/api/v1/hits?channel=news"))["hits"].empty());
  CHECK(body_of(viewer_get(t.port, "/api/v1/hits?limit=1"))["limit_reached"] == true);
  CHECK(error_of(viewer_get(t.port, "/api/v1/hits?regoin=x")).rfind("regoin:", 0) == 0);
  CHECK(error_of(viewer_get(t.port, "/api/v1/hits?excerpt=yes")).rfind("excerpt:", 0) == 0);
}
