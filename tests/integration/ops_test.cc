// Operations: a real Prometheus (Debian's) scrapes a running daemon through a stream, and
// every PromQL expression of the Grafana dashboard returns data through its HTTP API.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <thread>

#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every expression of the Grafana dashboard returns data from a real Prometheus",
          "[integration][ops]") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "epi.yaml",
             "id: epi\ntopic: epidemic\nplan_item: 4\nrules:\n  - {id: outbreak, any: [疫情]}\n"
             "alerts:\n  - {kind: threshold, window: 10m, count: 5, level: orange, resolve_after: 1h}\n");
  daemon_process daemon(dir.path / "d", "channels:\n  - {name: posts, topic: yuqing.posts}\n",
                        dir.path / "sets");
  const std::string bootstrap = daemon.start();

  const uint16_t prom_port = free_port();
  write_file(dir.path / "prometheus.yml",
             "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
             "  - job_name: yuqing\n    static_configs:\n      - targets: [\"127.0.0.1:" +
                 std::to_string(daemon.port()) + "\"]\n");
  child prometheus({"prometheus", "--config.file=" + (dir.path / "prometheus.yml").string(),
                    "--storage.tsdb.path=" + (dir.path / "tsdb").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                   dir.path / "prometheus.log");
  auto query = [&](const std::string& expr) {
    const auto r = http_get(prom_port, "/api/v1/query?query=" + url_encode(expr));
    return r.status == 200 ? json::parse(r.body) : json::object();
  };
  REQUIRE(eventually([&] { return http_get(prom_port, "/-/ready").status == 200; }, 60s));
  // A few scrapes before the stream, so that rates see it start.
  REQUIRE(eventually([&] {
    const auto j = query("count_over_time(up{job=\"yuqing\"}[1m])");
    return j.contains("data") && !j["data"]["result"].empty() &&
           std::stod(j["data"]["result"][0]["value"][1].get<std::string>()) >= 3;
  }, 60s));

  std::string lines;
  for (int i = 0; i < 20; ++i)
    lines += "{\"id\":\"o" + std::to_string(i) + "\",\"content\":\"江门疫情第" + std::to_string(i) + "条\"}\n";
  lines += "{not json\n";
  write_file(dir.path / "m.jsonl", lines);
  REQUIRE(shell("kcat -P -b " + bootstrap + " -t yuqing.posts -l " + (dir.path / "m.jsonl").string()).first == 0);
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 21; }, 30s));
  REQUIRE(eventually([&] { return daemon.metrics().find("yuqing_alerts_active{") != std::string::npos; }, 30s));
  std::this_thread::sleep_for(4s);  // scrapes after the stream

  const auto dashboard = json::parse(read_file(std::string(YUQING_SOURCE_DIR) + "/deploy/grafana/dashboards/yuqing.json"));
  size_t expressions = 0;
  std::vector<std::string> empty;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      const std::string expr = target["expr"];
      ++expressions;
      const auto j = query(expr);
      bool data = j.value("status", "") == "success" && !j["data"]["result"].empty();
      if (data) {  // a value that is not a number (NaN from an empty rate) is no data either
        data = false;
        for (const auto& series : j["data"]["result"])
          data = data || !std::isnan(std::stod(series["value"][1].get<std::string>()));
      }
      if (!data) empty.push_back(panel["title"].get<std::string>() + ": " + expr + " -> " + j.dump());
    }
  }
  CHECK(expressions == 17);
  for (const auto& e : empty) UNSCOPED_INFO(e);
  CHECK(empty.empty());
  REQUIRE(daemon.stop() == 0);
}
