// Alerting end to end: a real Alertmanager (Debian's) receives the alert with its labels and
// sees it resolved; the alerts topic carries it (read with kcat); the SSE stream delivers
// it; acknowledging goes through the bearer-token API. Two daemons in one group fire one
// alert for a threshold only their messages together cross. A restart in the middle of a
// window fires at the same message, and nothing already fired is sent again as new.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/clock.h"
#include "daemon/decoder.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string token = "alert-token";

// A keyword set whose threshold alert fires at the fifth message within `window`.
void write_set(const std::filesystem::path& dir, const std::string& window, int count,
               const std::string& resolve_after) {
  std::filesystem::create_directories(dir);
  write_file(dir / "epi.yaml", "id: epi\ntopic: epidemic\nplan_item: 4\nrules:\n  - {id: outbreak, any: [疫情]}\n"
                               "alerts:\n  - {kind: threshold, window: " + window + ", count: " +
                                   std::to_string(count) + ", level: orange, resolve_after: " +
                                   resolve_after + "}\n");
}

// The mock coordinator forgets a member that left only when its session times out: short
// sessions keep restarts quick.
std::string kafka_head(const std::string& bootstrap) {
  return "kafka:\n  brokers: \"" + bootstrap + "\"\n  properties: {session.timeout.ms: \"6000\", "
         "heartbeat.interval.ms: \"500\"}\nchannels:\n  - {name: posts, topic: yuqing.posts}\n";
}

std::string messages(int from, int to, int64_t time_ms = -1) {
  std::string out;
  for (int i = from; i < to; ++i) {
    out += "{\"id\":\"e" + std::to_string(i) + "\",\"author\":\"u" + std::to_string(i) +
           "\",\"content\":\"第" + std::to_string(i) + "条 江门疫情消息\"";
    if (time_ms >= 0) out += ",\"published_at\":\"" + yuqing::daemon::format_rfc3339(time_ms + i * 1000) + "\"";
    out += "}\n";
  }
  return out;
}

// With a key, every message goes to one partition, in order; with a partition, to that one.
// (Without either, librdkafka's sticky partitioner often puts a short burst into one.)
void produce(const std::string& bootstrap, const std::filesystem::path& file, const std::string& lines,
             const std::string& key = "", int partition = -1) {
  std::string text = lines;
  if (!key.empty()) {
    text.clear();
    std::istringstream in(lines);
    for (std::string l; std::getline(in, l);) text += key + "\t" + l + "\n";
  }
  write_file(file, text);
  REQUIRE(shell("kcat -P -b " + bootstrap + " -t yuqing.posts " + (key.empty() ? "" : "-K '\t' ") +
                (partition < 0 ? "" : "-p " + std::to_string(partition) + " ") + "-l " +
                file.string() + " 2>&1").first == 0);
}

// The alerts of the daemon as JSON.
json alerts_of(uint16_t port, const std::string& query = "") {
  const auto r = http_get(port, "/api/v1/alerts" + query);
  if (r.status != 200) return json::array();
  return json::parse(r.body)["alerts"];
}

// "reason id" of every record of the alerts topic.
std::vector<std::string> alerts_topic(const std::string& bootstrap) {
  const auto [rc, out] = shell("kcat -C -b " + bootstrap + " -t yuqing.alerts -o beginning -e -q -f '%k\\t%s\\n' 2>/dev/null");
  std::vector<std::string> records;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const auto j = json::parse(line.substr(tab + 1), nullptr, false);
    if (!j.is_object()) continue;
    records.push_back(j["reason"].get<std::string>() + " " + j["alert"]["id"].get<std::string>() +
                      " " + line.substr(0, tab));
  }
  return records;
}

}  // namespace

TEST_CASE("an alert reaches Alertmanager, the alerts topic and the SSE stream, and resolves",
          "[integration][alerting]") {
  temp_dir dir;
  write_set(dir.path / "sets", "5s", 5, "2s");
  const uint16_t am_port = free_port();
  write_file(dir.path / "am.yml", "route:\n  receiver: none\n  group_by: [unit]\nreceivers:\n  - name: none\n");
  child am({"prometheus-alertmanager", "--config.file=" + (dir.path / "am.yml").string(),
            "--storage.path=" + (dir.path / "am").string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
           dir.path / "alertmanager.log");
  REQUIRE(eventually([&] { return http_get(am_port, "/-/ready").status == 200; }, 30s));

  // A webhook receiver: appends each POSTed body as one line.
  const uint16_t hook_port = free_port();
  write_file(dir.path / "hook.py",
             "import http.server, sys\n"
             "class H(http.server.BaseHTTPRequestHandler):\n"
             "    def do_POST(self):\n"
             "        body = self.rfile.read(int(self.headers['Content-Length']))\n"
             "        with open(sys.argv[2], 'ab') as f: f.write(body + b'\\n')\n"
             "        self.send_response(200); self.end_headers()\n"
             "    def log_message(self, *a): pass\n"
             "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n");
  child hook({"python3", (dir.path / "hook.py").string(), std::to_string(hook_port),
              (dir.path / "hook.jsonl").string()},
             dir.path / "hook.log");
  daemon_process daemon(dir.path / "d",
                        "channels:\n  - {name: posts, topic: yuqing.posts}\nalerting:\n  alertmanager: "
                        "{url: \"http://127.0.0.1:" + std::to_string(am_port) + "\", resend_seconds: 5}\n"
                        "  webhook: {url: \"http://127.0.0.1:" + std::to_string(hook_port) + "/hook\"}\n",
                        dir.path / "sets", "", ", token: " + token);
  const std::string bootstrap = daemon.start();
  const uint16_t port = daemon.port();
  child sse({"curl", "-sN", "--max-time", "60", "http://127.0.0.1:" + std::to_string(port) + "/api/v1/alerts/stream"},
            dir.path / "sse.log");
  REQUIRE(eventually([&] { return read_file(dir.path / "sse.log").find(": connected") != std::string::npos; }, 10s));

  // Four messages: below the threshold.
  produce(bootstrap, dir.path / "m1.jsonl", messages(0, 4));
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 4; }, 30s));
  std::this_thread::sleep_for(1500ms);
  CHECK(alerts_of(port).empty());
  // The fifth crosses it.
  produce(bootstrap, dir.path / "m2.jsonl", messages(4, 5));
  REQUIRE(eventually([&] { return alerts_of(port).size() == 1; }, 30s));
  const json alert = alerts_of(port)[0];
  const std::string id = alert["id"];
  CHECK(alert["state"] == "firing");
  CHECK(alert["level"] == "orange");
  CHECK(alert["count"] == 5);
  CHECK(alert["lead_units"] == json::array({"防控办"}));
  CHECK(alert["examples"].size() == 5);
  CHECK(alert["examples"][4]["text"].get<std::string>().find("【疫情】") != std::string::npos);

  // Alertmanager has it, with ASCII label names and the routing labels.
  json am_alerts;
  REQUIRE(eventually([&] {
    const auto r = http_get(am_port, "/api/v2/alerts");
    am_alerts = r.status == 200 ? json::parse(r.body) : json::array();
    return am_alerts.size() == 1;
  }, 20s));
  const auto& labels = am_alerts[0]["labels"];
  CHECK(labels["alertname"] == "yuqing_threshold");
  CHECK(labels["level"] == "orange");
  CHECK(labels["topic"] == "epidemic");
  CHECK(labels["plan_item"] == "4");
  CHECK(labels["unit"] == "防控办");
  CHECK(am_alerts[0]["annotations"]["alert_id"] == id);

  // Acknowledged through the API (the token is required).
  CHECK(http_post(port, "/api/v1/alerts/" + id + "/ack", R"({"who":"值班员"})").status == 401);
  const auto ack = http_post(port, "/api/v1/alerts/" + id + "/ack", R"({"who":"值班员","note":"已签收"})", token);
  CHECK(ack.status == 200);
  CHECK(json::parse(ack.body)["state"] == "acknowledged");
  CHECK(http_post(port, "/api/v1/alerts/al-none/ack", R"({"who":"x"})", token).status == 404);

  // No more messages: the window empties, the alert resolves and Alertmanager drops it
  // (long before the endsAt of its last resend, 20 s ahead).
  REQUIRE(eventually([&] { return alerts_of(port, "?state=resolved").size() == 1; }, 30s));
  const auto resolved_at = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] {
    const auto r = http_get(am_port, "/api/v2/alerts");
    return r.status == 200 && json::parse(r.body).empty();
  }, 15s));
  CHECK(std::chrono::steady_clock::now() - resolved_at < 15s);
  const json done = alerts_of(port)[0];
  std::vector<std::string> actions;
  for (const auto& a : done["audit"]) actions.push_back(a["action"]);
  CHECK(actions == std::vector<std::string>{"fired", "acknowledged", "resolved"});

  // The alerts topic carries each change, keyed by fingerprint; the SSE stream too.
  const auto records = alerts_topic(bootstrap);
  const std::string fp = "epi/threshold-1/threshold/epidemic";
  CHECK(std::count(records.begin(), records.end(), "fired " + id + " " + fp) == 1);
  CHECK(std::count(records.begin(), records.end(), "acknowledged " + id + " " + fp) == 1);
  CHECK(std::count(records.begin(), records.end(), "resolved " + id + " " + fp) == 1);
  const std::string sse_text = read_file(dir.path / "sse.log");
  CHECK(sse_text.find("event: alert\ndata: {\"alert\":{") != std::string::npos);
  CHECK(sse_text.find("\"reason\":\"fired\"") != std::string::npos);
  CHECK(sse_text.find("\"reason\":\"resolved\"") != std::string::npos);

  // The webhook got each notification.
  std::vector<std::string> reasons;
  REQUIRE(eventually([&] {
    reasons.clear();
    std::istringstream in(read_file(dir.path / "hook.jsonl"));
    for (std::string line; std::getline(in, line);) {
      const auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j["alert"]["id"] == id) reasons.push_back(j["reason"]);
    }
    return reasons.size() >= 3;
  }, 15s));
  CHECK(reasons == std::vector<std::string>{"fired", "acknowledged", "resolved"});

  const std::string metrics = daemon.metrics();
  CHECK(metric(metrics, "yuqing_alerts_fired_total{kind=\"threshold\",level=\"orange\"}") == 1);
  CHECK(metric(metrics, "yuqing_alert_notification_failures_total{sink=\"webhook\"}") == 0);
  CHECK(metric(metrics, "process_resident_memory_bytes") > 1e6);
  CHECK(metric(metrics, "process_open_fds") > 3);
  // The exposition passes promtool's lint after a stream has run.
  write_file(dir.path / "metrics.txt", metrics);
  const auto [lint_rc, lint] = shell("promtool check metrics < " + (dir.path / "metrics.txt").string() + " 2>&1");
  INFO(lint);
  CHECK(lint_rc == 0);
  CHECK(metric(metrics, "yuqing_alert_latency_seconds_count") == 1);
  CHECK(metric(metrics, "yuqing_alert_notification_failures_total{sink=\"alertmanager\"}") == 0);
  REQUIRE(daemon.stop() == 0);
}

TEST_CASE("two daemons: a threshold crossed only by their messages together fires once",
          "[integration][alerting]") {
  temp_dir dir;
  write_set(dir.path / "sets", "10m", 40, "10m");
  broker_process broker(dir.path / "broker", {"yuqing.posts", "yuqing.hits", "yuqing.alerts", "yuqing.deadletter"}, 4);
  const std::string head = kafka_head(broker.bootstrap());
  daemon_process a(dir.path / "a", head, dir.path / "sets");
  daemon_process b(dir.path / "b", head, dir.path / "sets");
  a.start();
  b.start();
  // Both instances must consume: wait until the group gave each a share of yuqing.posts
  // (messages produced while the first still holds every partition are all its own).
  REQUIRE(eventually([&] {
    return a.log().find("event=partitions_assigned count=2") != std::string::npos &&
           b.log().find("event=partitions_assigned count=2") != std::string::npos;
  }, 60s));
  const int64_t t0 = yuqing::system_clock().now_ms();
  for (int p = 0; p < 4; ++p)  // ten messages in each partition, so each instance gets some
    produce(broker.bootstrap(), dir.path / ("m" + std::to_string(p) + ".jsonl"),
            messages(p * 10, p * 10 + 10, t0), "", p);
  REQUIRE(eventually([&] {
    return a.status()["counters"]["consumed"].get<int>() + b.status()["counters"]["consumed"].get<int>() == 40;
  }, 60s));
  INFO("daemon a consumed " << a.status()["counters"]["consumed"] << ", b "
                            << b.status()["counters"]["consumed"]);
  CHECK(a.status()["counters"]["consumed"].get<int>() > 0);
  CHECK(b.status()["counters"]["consumed"].get<int>() > 0);
  REQUIRE(eventually([&] { return alerts_of(a.port()).size() + alerts_of(b.port()).size() >= 1; }, 30s));
  std::this_thread::sleep_for(2s);
  CHECK(alerts_of(a.port()).size() + alerts_of(b.port()).size() == 1);
  const auto records = alerts_topic(broker.bootstrap());
  CHECK(std::count_if(records.begin(), records.end(), [](const std::string& r) { return r.rfind("fired ", 0) == 0; }) == 1);
  const json alert = alerts_of(a.port()).empty() ? alerts_of(b.port())[0] : alerts_of(a.port())[0];
  CHECK(alert["count"] == 40);
  CHECK(alert["examples"][4]["message_key"] == "yuqing.posts/e39");
  REQUIRE(a.stop() == 0);
  REQUIRE(b.stop() == 0);
}

TEST_CASE("a restart in the middle of a window fires at the same message, nothing twice",
          "[integration][alerting]") {
  temp_dir dir;
  write_set(dir.path / "sets", "10m", 10, "10m");
  broker_process broker(dir.path / "broker", {"yuqing.posts", "yuqing.hits", "yuqing.alerts", "yuqing.deadletter"}, 2);
  const std::string head = kafka_head(broker.bootstrap());
  daemon_process d(dir.path / "d", head, dir.path / "sets");
  d.start();
  const int64_t t0 = yuqing::system_clock().now_ms();
  // Six of ten, then a restart (SIGTERM) and a crash (kill -9) in the middle of the window.
  // One key: one partition, so the messages reach the evaluator in order and the tenth fires.
  produce(broker.bootstrap(), dir.path / "m1.jsonl", messages(0, 6, t0), "k");
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 6; }, 30s));
  std::this_thread::sleep_for(1500ms);  // the evaluator commits each second
  REQUIRE(d.stop() == 0);
  d.start();
  produce(broker.bootstrap(), dir.path / "m2.jsonl", messages(6, 8, t0), "k");
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 2; }, 30s));
  std::this_thread::sleep_for(1500ms);
  d.kill9();
  d.start();
  CHECK(alerts_of(d.port()).empty());
  produce(broker.bootstrap(), dir.path / "m3.jsonl", messages(8, 12, t0), "k");
  REQUIRE(eventually([&] { return alerts_of(d.port()).size() == 1; }, 30s));
  json alert = alerts_of(d.port())[0];
  CHECK(alert["audit"][0]["note"].get<std::string>().find("at message yuqing.posts/e9 ") != std::string::npos);
  CHECK(alert["count"] >= 10);

  // Restarted after it fired: nothing is sent again as new; the alert is still the one.
  REQUIRE(d.stop() == 0);
  d.start();
  produce(broker.bootstrap(), dir.path / "m4.jsonl", messages(12, 14, t0), "k");
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 2; }, 30s));
  std::this_thread::sleep_for(2s);
  CHECK(alerts_of(d.port()).size() == 1);
  const auto records = alerts_topic(broker.bootstrap());
  CHECK(std::count_if(records.begin(), records.end(), [](const std::string& r) { return r.rfind("fired ", 0) == 0; }) == 1);
  CHECK(d.log().find("active_alerts_restored=1") != std::string::npos);
  REQUIRE(d.stop() == 0);
}
