// The walking skeleton end to end: yuqingd on its embedded broker, fed by kcat (a real
// outside Kafka client), checked through RocksDB and /metrics.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "storage/store.h"
#include "tests/support/yuqing.h"

using namespace yuqing;
using namespace yuqing::testing;
using namespace std::chrono_literals;


TEST_CASE("kcat -> yuqingd (embedded Kafka) -> RocksDB hits and /metrics counters",
          "[integration]") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "itest.yaml", R"(
id: itest
topic: incident
plan_item: 12
rules:
  - id: outbreak
    any: [疫情]
    all: [[江门]]
  - id: gathering
    any: [聚集]
    severity: critical
)");
  daemon_process daemon(dir.path, R"(
kafka:
  brokers: embedded
  embedded: {partitions: 2}
channels:
  - {name: posts, topic: yuqing.posts}
  - {name: news, topic: yuqing.news, kind: news}
)", dir.path / "sets");
  const uint16_t port = daemon.port();
  const std::string bootstrap = daemon.start();
  CHECK(http_get(port, "/healthz").status == 200);
  const auto status = nlohmann::json::parse(http_get(port, "/api/v1/status").body);
  CHECK(status["kafka"]["embedded"] == true);
  CHECK(status["keyword_sets"][0]["id"] == "itest");
  CHECK(!bootstrap.empty());

  write_file(dir.path / "posts.txt",
             "a1\t{\"id\":\"a1\",\"content\":\"江门疫情通报\",\"published_at\":\"2022-11-21T08:00:00+08:00\"}\n"
             "a2\t{\"id\":\"a2\",\"title\":\"江門\",\"content\":\"疫 情又來了\"}\n"
             "a3\t{\"id\":\"a3\",\"content\":\"有人在派出所门口聚集\"}\n"
             "a4\t{\"id\":\"a4\",\"content\":\"今天天气很好\"}\n"
             "a5\t{\"id\":\"a5\",\"content\":\"疫情\"}\n"
             "a6\t{\"id\":\"a6\",\n");
  write_file(dir.path / "news.txt", "n1\t{\"id\":\"n1\",\"title\":\"江门聚集\",\"content\":\"疫情\"}\n");
  for (const auto& [topic, file] : {std::pair{"yuqing.posts", "posts.txt"}, {"yuqing.news", "news.txt"}}) {
    const auto [rc, out] = shell("kcat -P -b " + bootstrap + " -t " + topic + " -K '\t' -l " +
                                 (dir.path / file).string() + " 2>&1");
    INFO(out);
    REQUIRE(rc == 0);
  }

  REQUIRE(eventually(
      [&] {
        const auto s = nlohmann::json::parse(http_get(port, "/api/v1/status").body);
        return s["counters"]["consumed"] == 7 && s["counters"]["dead_lettered"] == 1;
      },
      60s));

  const auto m = http_get(port, "/metrics").body;
  CHECK(metric(m, R"(yuqing_messages_consumed_total{channel="posts"})") == 6);
  CHECK(metric(m, R"(yuqing_messages_consumed_total{channel="news"})") == 1);
  CHECK(metric(m, R"(yuqing_hits_total{set="itest",topic="incident"})") == 5);
  CHECK(metric(m, R"(yuqing_messages_invalid_total{channel="posts",reason="invalid_json"})") == 1);
  CHECK(metric(m, R"(yuqing_messages_invalid_total{channel="posts",reason="missing_text"})") == 0);
  CHECK(metric(m, R"(yuqing_dead_letters_total{channel="posts"})") == 1);
  // Every assigned partition reports its lag, and it drains to 0.
  CHECK(eventually([&] {
    const auto now = http_get(port, "/metrics").body;
    for (const char* s : {R"(yuqing_consumer_lag_messages{partition="0",topic="yuqing.posts"})",
                          R"(yuqing_consumer_lag_messages{partition="1",topic="yuqing.posts"})",
                          R"(yuqing_consumer_lag_messages{partition="0",topic="yuqing.news"})"})
      if (metric(now, s) != 0) return false;
    return true;
  }, 10s));

  // The dead letter carries the reason and the source position.
  const auto [rc, dead] = shell("kcat -C -b " + bootstrap +
                                " -t yuqing.deadletter -e -q -f '%k|%h|%s\\n' 2>&1");
  CHECK(rc == 0);
  CHECK(dead.find("a6|yuqing.reason=invalid_json,yuqing.channel=posts,yuqing.source=yuqing.posts/") == 0);

  // The HTTP API serves the stored hits.
  const auto api = nlohmann::json::parse(http_get(port, "/api/v1/hits?topic=incident").body);
  CHECK(api["hits"].size() == 5);
  const auto n1 = nlohmann::json::parse(http_get(port, "/api/v1/hits?message=yuqing.news%2Fn1").body);
  CHECK(n1["hits"].size() == 2);

  // SIGTERM drains, commits and exits cleanly.
  REQUIRE(daemon.stop() == 0);

  auto store = storage::store::open({dir.path / "data", true, true});
  REQUIRE(store.ok());
  auto hits = (*store)->hits({});
  REQUIRE(hits.ok());
  std::set<std::string> got;
  for (const auto& h : *hits) {
    std::string spans;
    for (const auto& s : h.spans) spans += "|" + s.field + ":" + s.text;
    got.insert(h.message_key + " " + h.rule_id + " " + h.severity + spans);
    CHECK(h.topic == "incident");
    CHECK(h.plan_item == 12);
  }
  CHECK(got == std::set<std::string>{
                   "yuqing.posts/a1 outbreak warning|content:江门|content:疫情",
                   "yuqing.posts/a2 outbreak warning|title:江門|content:疫 情",
                   "yuqing.posts/a3 gathering critical|content:聚集",
                   "yuqing.news/n1 outbreak warning|title:江门|content:疫情",
                   "yuqing.news/n1 gathering critical|title:聚集",
               });
  // The stored offsets cover every message, the dead-lettered one included.
  int64_t posts = 0;
  for (int p = 0; p < 2; ++p) posts += (*store)->next_offset("yuqing.posts", p)->value_or(0);
  CHECK(posts == 6);
  CHECK(**(*store)->next_offset("yuqing.news", 0) + (*store)->next_offset("yuqing.news", 1)->value_or(0) == 1);
}

TEST_CASE("SIGHUP reloads keyword sets and a broken edit keeps the running set", "[integration]") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path / "sets");
  const auto set_file = dir.path / "sets" / "r.yaml";
  write_file(set_file, "id: r\nrules:\n  - {id: old, any: [旧词]}\n");
  daemon_process daemon(dir.path, "channels:\n  - {name: posts, topic: yuqing.posts}\n", dir.path / "sets",
                        ", watch: false");
  const uint16_t port = daemon.port();
  const std::string bootstrap = daemon.start();
  auto rule_ids = [&] {
    std::set<std::string> ids;
    const auto hits = nlohmann::json::parse(http_get(port, "/api/v1/hits").body)["hits"];
    for (const auto& h : hits) ids.insert(h["message_key"].get<std::string>() + ":" + h["rule"].get<std::string>());
    return ids;
  };
  auto send = [&](const std::string& id, const std::string& text) {
    write_file(dir.path / "m.txt", "{\"id\":\"" + id + "\",\"content\":\"" + text + "\"}\n");
    REQUIRE(shell("kcat -P -b " + bootstrap + " -t yuqing.posts -l " + (dir.path / "m.txt").string()).first == 0);
  };
  auto consumed = [&] {
    return nlohmann::json::parse(http_get(port, "/api/v1/status").body)["counters"]["consumed"].get<int>();
  };

  send("m1", "旧词和新词");
  REQUIRE(eventually([&] { return consumed() == 1; }, 30s));
  CHECK(rule_ids() == std::set<std::string>{"yuqing.posts/m1:old"});

  // A good edit takes effect.
  write_file(set_file, "id: r\nrules:\n  - {id: new, any: [新词]}\n");
  daemon.signal(SIGHUP);
  REQUIRE(eventually([&] {
    return nlohmann::json::parse(http_get(port, "/api/v1/status").body)["keyword_sets"][0]["rules"] == 1 &&
           http_get(port, "/metrics").body.find("yuqing_keyword_set_reloads_total{result=\"ok\"} 2") != std::string::npos;
  }, 10s));
  send("m2", "旧词和新词");
  REQUIRE(eventually([&] { return consumed() == 2; }, 30s));
  CHECK(rule_ids() == std::set<std::string>{"yuqing.posts/m1:old", "yuqing.posts/m2:new"});

  // A broken edit is rejected with its position; the running set keeps matching.
  write_file(set_file, "id: r\nrules:\n  - {id: broken, any: ['']}\n");
  daemon.signal(SIGHUP);
  REQUIRE(eventually([&] {
    return http_get(port, "/metrics").body.find("yuqing_keyword_set_reloads_total{result=\"failed\"} 1") != std::string::npos;
  }, 10s));
  send("m3", "旧词和新词");
  REQUIRE(eventually([&] { return consumed() == 3; }, 30s));
  CHECK(rule_ids().count("yuqing.posts/m3:new") == 1);

  REQUIRE(daemon.stop() == 0);
  const std::string text = daemon.log();
  CHECK(text.find("event=keyword_set_rejected trigger=SIGHUP " + set_file.string() + ":3:24: error: [rule broken] empty keyword") != std::string::npos);
  CHECK(text.find("event=keyword_set_kept set=r") != std::string::npos);
}
