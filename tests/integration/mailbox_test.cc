// Governor's-mailbox cases end to end on the mock broker, fed with kcat: a stream of
// mailbox messages and replies (some replies before their message, one with no message at
// all) yields exactly the case states, alerts and report figures worked out by hand below,
// across a restart of the daemon. And a stream with three groups of lightly edited copies
// among unrelated messages, over the mailbox and a public channel, yields exactly three
// text clusters with the right members.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>

#include "config/clock.h"
#include "ingest/decoder.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::vector<std::string> topics = {"yuqing.mailbox", "yuqing.mailbox-replies", "yuqing.posts",
                                         "yuqing.hits", "yuqing.alerts", "yuqing.deadletter"};

std::string head(const std::string& bootstrap, const std::string& mailbox_extra) {
  return kafka_head(bootstrap) +
         "channels:\n"
         "  - {name: mailbox, topic: yuqing.mailbox, kind: mailbox}\n"
         "  - {name: replies, topic: yuqing.mailbox-replies, kind: mailbox-reply,\n"
         "     fields: {id: id, text: [content], time: replied_at, author: unit}}\n"
         "  - {name: posts, topic: yuqing.posts}\n"
         "mailbox:\n  calendar_dir: " YUQING_SOURCE_DIR "/seeds/calendar\n" + mailbox_extra;
}

// Produces JSON lines keyed by their id (as the design asks: a case and its reply share a
// key, so they share a partition number).
void produce(const std::string& bootstrap, const std::filesystem::path& file, const std::string& topic,
             const std::vector<json>& rows) {
  std::string text;
  for (const auto& r : rows) text += r["id"].get<std::string>() + "\t" + r.dump() + "\n";
  write_file(file, text);
  REQUIRE(shell("kcat -P -b " + bootstrap + " -t " + topic + " -K '\t' -l " + file.string() + " 2>&1").first == 0);
}

json message(const std::string& id, const std::string& category, const std::string& time, const std::string& text) {
  return {{"id", id}, {"category", category}, {"author", "市民" + id}, {"title", ""}, {"content", text},
          {"region", "蓬江区"}, {"published_at", time}};
}

json reply(const std::string& id, const std::string& unit, const std::string& time) {
  return {{"id", id}, {"unit", unit}, {"content", "您好，已转相关部门处理。"}, {"replied_at", time}};
}

std::map<std::string, json> cases_of(uint16_t port) {
  std::map<std::string, json> out;
  const auto r = http_get(port, "/api/v1/cases");
  if (r.status != 200) return out;
  const auto body = json::parse(r.body);
  for (const auto& c : body["cases"]) out[c["id"].get<std::string>()] = c;
  return out;
}

// "kind case" of every fired mailbox alert on the alerts topic.
std::multiset<std::string> fired_case_alerts(const std::string& bootstrap) {
  const auto [rc, out] = shell("kcat -C -b " + bootstrap + " -t yuqing.alerts -o beginning -e -q 2>/dev/null");
  std::multiset<std::string> fired;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (!j.is_object() || j["reason"] != "fired" || j["alert"]["origin"] != "mailbox") continue;
    const auto& labels = j["alert"]["labels"];
    fired.insert(j["alert"]["kind"].get<std::string>() + " " +
                 (labels.contains("case") ? labels["case"].get<std::string>() : std::string("-")));
  }
  return fired;
}

std::string now_plus(int64_t ms) { return yuqing::common::format_rfc3339(yuqing::system_clock().now_ms() + ms); }

}  // namespace

TEST_CASE("mailbox cases: states, alerts and report figures from a kcat stream, across a restart",
          "[integration][mailbox]") {
  temp_dir dir;
  broker_process broker(dir.path / "broker", topics, 2);
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "school.yaml",
             "id: school\ntopic: consultation\nplan_item: 10\nrules:\n  - {id: enrolment, any: [入学]}\n");
  // 咨询: 2 working days. 长期 (long) has ten years, 短期 (short) one working day; every
  // unanswered case is due soon within 30 days. No concentrated issues by count here.
  daemon_process daemon(dir.path / "d", head(broker.bootstrap(),
                                             "  deadlines: {咨询: 2d, 长期: 3650d, 短期: 1d}\n"
                                             "  due_soon_hours: 720\n"
                                             "  concentrated: {count: 1000}\n"
                                             "  clusters: {scope: none}\n"),
                        dir.path / "sets", ", watch: false");
  const auto bootstrap = daemon.start();
  const uint16_t port = daemon.port();

  // By hand (Monday 2026-11-02 +08:00; 咨询 is due at the end of Wednesday 11-04):
  //   c1 咨询 answered after 24 h: closed, on time      c2 咨询 answered after 96 h: late
  //   c3 长期 received now: open (deadline in ten years) c4 短期 received now: open, due soon
  //   c5 咨询 never answered: overdue                   c6 咨询 answered (reply first) after 24 h
  //   c7 长期 answered after 24 h, reply after message and after a restart
  //   a reply for "nobody", whose message never comes
  // 1. Replies that arrive before their messages.
  produce(bootstrap, dir.path / "r1.jsonl", "yuqing.mailbox-replies",
          {reply("c1", "宣传科", "2026-11-03T09:00:00+08:00"), reply("c2", "指挥中心", "2026-11-06T09:00:00+08:00"),
           reply("c6", "督察支队", "2026-11-03T10:00:00+08:00"), reply("nobody", "宣传科", "2026-11-03T10:00:00+08:00")});
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 4; }, 60s));
  // 2. The messages.
  produce(bootstrap, dir.path / "m.jsonl", "yuqing.mailbox",
          {message("c1", "咨询", "2026-11-02T09:00:00+08:00", "孩子入学需要哪些材料"),
           message("c2", "咨询", "2026-11-02T09:00:00+08:00", "生育津贴怎么申请"),
           message("c3", "长期", now_plus(0), "建议在北街路口增设红绿灯"),
           message("c4", "短期", now_plus(0), "房东不退押金求助"),
           message("c5", "咨询", "2026-11-02T10:00:00+08:00", "退休金什么时候调整"),
           message("c6", "咨询", "2026-11-02T10:00:00+08:00", "居住证怎么办理"),
           message("c7", "长期", "2026-11-09T09:00:00+08:00", "公开征求意见的时间能否延长")});
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 11; }, 60s));
  // c2 was answered late: its one overdue alert is raised (and resolved) as its reply is read.
  REQUIRE(eventually([&] { return fired_case_alerts(bootstrap).size() == 3; }, 30s));

  auto cases = cases_of(port);
  REQUIRE(cases.size() == 7);
  CHECK(cases["c1"]["state"] == "closed");
  CHECK(cases["c1"]["on_time"] == true);
  CHECK(cases["c1"]["deadline"] == "2026-11-04T16:00:00.000Z");
  CHECK(cases["c1"]["topics"] == json::array({"consultation"}));
  CHECK(cases["c1"]["units"] == json::array({"政策措施牵头起草、组织实施单位"}));  // plan item 10
  CHECK(cases["c2"]["state"] == "closed");
  CHECK(cases["c2"]["on_time"] == false);
  CHECK(cases["c2"]["reply"]["unit"] == "指挥中心");
  CHECK(cases["c3"]["state"] == "open");
  CHECK(cases["c4"]["state"] == "open");
  CHECK(cases["c5"]["state"] == "overdue");
  CHECK(cases["c5"]["units"] == json::array({"宣传科", "指挥中心", "督察支队"}));  // plan item 11
  CHECK(cases["c6"]["state"] == "closed");
  CHECK(cases["c6"]["on_time"] == true);
  CHECK(cases["c7"]["state"] == "open");
  const auto only = json::parse(http_get(port, "/api/v1/cases?state=reply_only").body)["cases"];
  REQUIRE(only.size() == 1);
  CHECK(only[0]["id"] == "nobody");
  CHECK(json::parse(http_get(port, "/api/v1/cases?state=overdue&unit=" "%E5%AE%A3%E4%BC%A0%E7%A7%91").body)["cases"].size() == 1);

  // 3. A restart, then c7's reply: nothing is alerted again.
  REQUIRE(daemon.stop() == 0);
  daemon.start();
  produce(bootstrap, dir.path / "r2.jsonl", "yuqing.mailbox-replies", {reply("c7", "宣传科", "2026-11-10T09:00:00+08:00")});
  REQUIRE(eventually([&] { return cases_of(port)["c7"]["state"] == "closed"; }, 60s));
  // Two more ticks (one a second), that must raise nothing more: kept fixed, since a tick
  // that raises nothing leaves no trace to wait for.
  std::this_thread::sleep_for(2s);
  CHECK(fired_case_alerts(bootstrap) == std::multiset<std::string>{"overdue c2", "due_soon c4", "overdue c5"});
  // c2's overdue alert: condition cleared by its reply, still open until someone handles it.
  std::set<std::string> open;
  const auto open_alerts = json::parse(http_get(port, "/api/v1/alerts?state=open").body)["alerts"];
  for (const auto& a : open_alerts) open.insert(a["fingerprint"].get<std::string>());
  CHECK(open == std::set<std::string>{"mailbox/overdue/c2", "mailbox/due_soon/c4", "mailbox/overdue/c5"});
  const auto active = json::parse(http_get(port, "/api/v1/alerts?condition=firing").body)["alerts"];
  std::set<std::string> firing;
  for (const auto& a : active) firing.insert(a["fingerprint"].get<std::string>());
  CHECK(firing == std::set<std::string>{"mailbox/due_soon/c4", "mailbox/overdue/c5"});

  // The report of November (received 7: on time c1 c6 c7, late c2, open c3 c4, overdue c5).
  const auto r = http_get(port, "/api/v1/report?from=2026-11-01T00:00:00%2B08:00&to=" +
                                    std::to_string(yuqing::system_clock().now_ms() + 3600000));
  REQUIRE(r.status == 200);
  const auto report = json::parse(r.body);
  CHECK(report["total"]["received"] == 7);
  CHECK(report["total"]["answered_on_time"] == 3);
  CHECK(report["total"]["answered_late"] == 1);
  CHECK(report["total"]["open"] == 2);
  CHECK(report["total"]["overdue"] == 1);
  CHECK(report["total"]["reply_hours_median"] == 24.0);  // 24, 24, 24, 96
  CHECK(report["total"]["reply_hours_p90"] == 96.0);
  CHECK(report["by_category"]["咨询"]["received"] == 4);
  CHECK(report["by_category"]["咨询"]["answered_late"] == 1);
  CHECK(report["by_category"]["咨询"]["overdue"] == 1);
  CHECK(report["by_topic"]["consultation"]["received"] == 1);
  CHECK(report["unmatched_replies"] == 1);
  // The same report from the store, read-only, as markdown.
  const auto [rc, md] = shell(std::string(YUQINGCTL) + " report --db " + daemon.data().string() +
                              " --from 2026-11-01T00:00:00+08:00 --format md 2>/dev/null");
  CHECK(rc == 0);
  CHECK(md.find("| all | 7 | 3 | 1 | 2 | 1 | 24.0 | 96.0 |") != std::string::npos);

  const auto m = daemon.metrics();
  CHECK(metric(m, R"(yuqing_mailbox_cases{state="closed"})") == 4);
  CHECK(metric(m, R"(yuqing_mailbox_cases{state="open"})") == 2);
  CHECK(metric(m, R"(yuqing_mailbox_cases{state="overdue"})") == 1);
  CHECK(metric(m, R"(yuqing_mailbox_overdue_cases{unit="督察支队"})") == 1);
  CHECK(metric(m, R"(yuqing_mailbox_unmatched_replies)") == 1);
}

TEST_CASE("mailbox clusters: three groups of lightly edited copies among unrelated messages",
          "[integration][mailbox]") {
  temp_dir dir;
  broker_process broker(dir.path / "broker", topics, 2);
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "any.yaml", "id: any\ntopic: misc\nrules:\n  - {id: never, any: [不会出现的词语]}\n");
  daemon_process daemon(dir.path / "d", head(broker.bootstrap(),
                                             "  concentrated: {count: 1000}\n"
                                             "  clusters: {scope: all, count: 3}\n"),
                        dir.path / "sets", ", watch: false");
  const auto bootstrap = daemon.start();
  const std::vector<std::string> groups = {
      "投诉会城工地夜间施工噪音扰民，已经一个月了，多次反映没有结果",
      "举报某公司拖欠工资半年，几十名工人讨说法，劳动监察不作为",
      "小区旁边的垃圾站臭气熏天，夏天根本不敢开窗，希望尽快搬迁"};
  const std::vector<std::string> unrelated = {
      "孩子今年秋季入学，积分入学需要哪些材料？", "建议在北街路口增设红绿灯，早晚高峰很危险。",
      "退休金什么时候调整？想咨询养老金的计算方式。", "居住证办理难，跑了好几趟派出所还是办不了。",
      "江门的陈皮今年价格涨了不少", "周末带孩子去公园放风筝，天气很好", "今晚广场有舞狮表演",
      "有没有人知道哪里修手机比较靠谱"};
  std::vector<json> mailbox, posts;
  std::map<int, std::set<std::string>> expected;  // group -> message keys
  int n = 0;
  for (int copy = 0; copy < 4; ++copy) {
    for (int g = 0; g < 3; ++g) {
      std::string text = groups[static_cast<size_t>(g)];
      if (copy == 1) text = "【转】" + text + "！！";
      if (copy == 2) text.replace(text.find("，"), 3, " ");
      if (copy == 3) text = text.substr(0, text.size() - 9) + "，请领导重视";
      const std::string id = "g" + std::to_string(g) + "-" + std::to_string(copy);
      const auto row = message(id, "投诉", now_plus(++n * 1000), text);
      // Copies 0 and 2 go to the mailbox, 1 and 3 are public posts.
      (copy % 2 == 0 ? mailbox : posts).push_back(row);
      expected[g].insert((copy % 2 == 0 ? "yuqing.mailbox/" : "yuqing.posts/") + id);
    }
  }
  for (size_t i = 0; i < unrelated.size(); ++i)
    (i % 2 ? posts : mailbox).push_back(message("u" + std::to_string(i), "咨询", now_plus(++n * 1000), unrelated[i]));
  produce(bootstrap, dir.path / "m.jsonl", "yuqing.mailbox", mailbox);
  produce(bootstrap, dir.path / "p.jsonl", "yuqing.posts", posts);
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 20; }, 60s));

  json issues;
  REQUIRE(eventually([&] {
    const auto r = http_get(daemon.port(), "/api/v1/report?from=1d&to=" +
                                               std::to_string(yuqing::system_clock().now_ms() + 3600000));
    issues = json::parse(r.body)["concentrated_issues"];
    return issues.size() == 3 && issues[0]["count"] == 4 && issues[1]["count"] == 4 && issues[2]["count"] == 4;
  }, 30s));
  std::set<std::set<std::string>> found;
  for (const auto& i : issues) {
    CHECK(i["by"] == "text");
    found.insert(i["members"].get<std::set<std::string>>());
  }
  CHECK(found == std::set<std::set<std::string>>{expected[0], expected[1], expected[2]});
  const auto m = daemon.metrics();
  CHECK(metric(m, "yuqing_mailbox_clustered_messages_total") == 20);
  CHECK(metric(m, R"(yuqing_mailbox_alerts_total{kind="concentrated_issue"})") == 3);
}

TEST_CASE("mailbox clusters: a copy-paste flood is one 同文多发 issue, stored at speed, stopped and restarted in seconds",
          "[integration][mailbox][flood]") {
  temp_dir dir;
  broker_process broker(dir.path / "broker", topics, 4);
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "epidemic.yaml",
             "id: epidemic\ntopic: epidemic\nplan_item: 4\nrules:\n  - {id: outbreak, any: [疫情]}\n");
  daemon_process daemon(dir.path / "d", head(broker.bootstrap(), "  clusters: {scope: matched, count: 5}\n"),
                        dir.path / "sets", ", watch: false");
  const auto bootstrap = daemon.start();
  // 8,000 copies of one matched post (the default scope clusters every one of them).
  constexpr int copies = 8000;
  for (const std::string prefix : {"f", "g"}) {
    std::string lines;
    for (int i = 0; i < copies; ++i)
      lines += json{{"id", prefix + std::to_string(i)}, {"author", "a" + std::to_string(i % 97)},
                    {"content", "江门疫情确诊，请大家注意防护"}}.dump() + "\n";
    write_file(dir.path / (prefix + ".jsonl"), lines);
  }
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(broker.produce("yuqing.posts", dir.path / "f.jsonl") == 0);
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == copies; }, 180s));
  const double stored_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto m = daemon.metrics();
  const double clustering_s = metric(m, "yuqing_mailbox_clustering_seconds_total");
  std::printf("flood: %d copies produced and stored in %.1f s, %.1f s of it clustering (%.1f us each)\n", copies,
              stored_s, clustering_s, 1e6 * clustering_s / copies);
  CHECK(metric(m, "yuqing_mailbox_clustered_messages_total") == copies);
  CHECK(metric(m, R"(yuqing_mailbox_alerts_total{kind="same_text"})") == 1);
  CHECK(metric(m, R"(yuqing_mailbox_alerts_total{kind="concentrated_issue"})") == 0);

  // SIGTERM in the middle of a second flood: the daemon drains and leaves within seconds.
  REQUIRE(broker.produce("yuqing.posts", dir.path / "g.jsonl") == 0);
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] > copies + 500; }, 60s));
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(daemon.stop() == 0);
  std::printf("flood: SIGTERM to exit %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
  // The restart reads every clustered message back (linearly) and goes on with the flood.
  const auto t2 = std::chrono::steady_clock::now();
  daemon.start();
  std::printf("flood: restart to /readyz %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count());
  REQUIRE(eventually([&] { return stored_offsets(daemon.data(), "yuqing.posts", 4) == 2 * copies; }, 120s));
  CHECK(metric(daemon.metrics(), R"(yuqing_mailbox_alerts_total{kind="same_text"})") == 0);  // still the same issue
  // ... and the same alert: the alerting service had it back before the mailbox raised it again.
  const auto alerts = http_get(daemon.port(), "/api/v1/alerts?kind=same_text");
  REQUIRE(alerts.status == 200);
  CHECK(json::parse(alerts.body)["alerts"].size() == 1);
  json r;
  CHECK(eventually([&] {  // the issue's figures are written once its batch is stored
    r = json::parse(http_get(daemon.port(), "/api/v1/report?from=30d").body);
    return r["same_text_issues"].size() == 1 && r["same_text_issues"][0]["count"] == 2 * copies;
  }, 30s));
  CHECK(r["same_text_issues"][0]["topic"] == "epidemic");
  CHECK(r["concentrated_issues"].empty());
}

TEST_CASE("mailbox cases: a backlog read at start raises overdue only for the late case, nothing for cases answered in time",
          "[integration][mailbox]") {
  temp_dir dir;
  broker_process broker(dir.path / "broker", topics, 4);
  std::filesystem::create_directories(dir.path / "sets");
  write_file(dir.path / "sets" / "any.yaml", "id: any\ntopic: misc\nrules:\n  - {id: never, any: [不会出现的词语]}\n");
  // 60 consultations of two weeks ago (咨询: 2 working days), all answered within a day but
  // one answered after six days; all produced while no daemon runs: a backlog.
  std::vector<json> messages, replies;
  for (int i = 0; i < 60; ++i) {
    const std::string id = "b" + std::to_string(i);
    const int64_t received = yuqing::system_clock().now_ms() - int64_t{14} * 86400000 + i * 60000;
    messages.push_back(message(id, "咨询", yuqing::common::format_rfc3339(received), "请问办理流程" + id));
    const int64_t answered = received + (i == 7 ? 6 : 1) * int64_t{86400000};
    replies.push_back(reply(id, "宣传科", yuqing::common::format_rfc3339(answered)));
  }
  // Two stamped two days ahead (a source's clock gone wrong): kept, counted, logged once.
  for (const std::string id : {"future1", "future2"})
    messages.push_back(message(id, "咨询", now_plus(int64_t{2} * 86400000), "时间错了的留言" + id));
  produce(broker.bootstrap(), dir.path / "m.jsonl", "yuqing.mailbox", messages);
  produce(broker.bootstrap(), dir.path / "r.jsonl", "yuqing.mailbox-replies", replies);
  // One message a batch: the deadline checks tick while the replies are still being read.
  daemon_process daemon(dir.path / "d",
                        head(broker.bootstrap(), "  concentrated: {count: 1000}\n  clusters: {scope: none}\n") +
                            "ingest: {batch_max_messages: 1}\n",
                        dir.path / "sets", ", watch: false");
  const auto bootstrap = daemon.start();
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"] == 122; }, 90s));
  REQUIRE(eventually([&] { return cases_of(daemon.port()).size() == 62; }, 30s));
  CHECK(cases_of(daemon.port())["future1"]["future_time"] == true);
  CHECK(cases_of(daemon.port())["b1"]["future_time"] == false);
  CHECK(metric(daemon.metrics(), R"(yuqing_messages_future_time_total{channel="mailbox"})") == 2);
  const auto log = daemon.log();
  const auto first = log.find("event=message_time_in_future channel=mailbox");
  CHECK(first != std::string::npos);
  CHECK(log.find("event=message_time_in_future", first + 1) == std::string::npos);
  REQUIRE(eventually([&] { return fired_case_alerts(bootstrap).size() == 1; }, 30s));
  // Two more ticks (one a second), that must raise nothing more: kept fixed, since a tick
  // that raises nothing leaves no trace to wait for.
  std::this_thread::sleep_for(2s);
  CHECK(fired_case_alerts(bootstrap) == std::multiset<std::string>{"overdue b7"});
  // b7's overdue alert: its condition cleared by the (late) reply, open until someone handles it.
  const auto firing = http_get(daemon.port(), "/api/v1/alerts?condition=firing");
  REQUIRE(firing.status == 200);
  CHECK(json::parse(firing.body)["alerts"].empty());
  const auto open = json::parse(http_get(daemon.port(), "/api/v1/alerts?state=open").body)["alerts"];
  REQUIRE(open.size() == 1);
  CHECK(open[0]["fingerprint"] == "mailbox/overdue/b7");
  CHECK(metric(daemon.metrics(), R"(yuqing_mailbox_replies_total{timeliness="on_time"})") == 59);
}
