// Governor's-mailbox cases with an injected clock: reply deadlines across weekends,
// holidays and make-up working days; a reply before its message; due_soon and overdue fire
// once; a restart in the middle keeps every case and alert; the report's figures; text
// clustering of lightly edited copies.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "config/clock.h"
#include "config/plan.h"
#include "mailbox/calendar.h"
#include "mailbox/cases.h"
#include "mailbox/clusters.h"
#include "ingest/decoder.h"
#include "mailbox/mailbox.h"
#include "ingest/pipeline.h"
#include "mailbox/probe.h"
#include "metrics/registry.h"
#include "config/config.h"
#include "matchers/matcher.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

using namespace yuqing;
using namespace yuqing::mailbox;
using namespace yuqing::ingest;
namespace fs = std::filesystem;

namespace {

int64_t at(const std::string& rfc3339) {
  int64_t ms = 0;
  REQUIRE(common::parse_rfc3339(rfc3339, ms));
  return ms;
}

const calendar& cn() {
  static const calendar c = [] {
    auto loaded = calendar::load_dir(fs::path(YUQING_SOURCE_DIR) / "seeds" / "calendar");
    REQUIRE(loaded);
    return *loaded;
  }();
  return c;
}

using yuqing::testing::temp_dir;

// A message of `channel` (its topic: yuqing.CHANNEL) as the batch builder records it.
storage::message_record record(const std::string& channel, const std::string& kind, const std::string& id,
                               int64_t time_ms, const std::string& text) {
  storage::message_record m;
  m.channel = channel;
  m.kind = kind;
  m.source = {"yuqing." + channel, 0, 0};
  m.id = id;
  m.key = "yuqing." + channel + "/" + id;
  m.time_ms = time_ms;
  m.text = {{"content", text}};
  return m;
}

storage::message_record mailbox_message(const std::string& id, int64_t time_ms, const std::string& category,
                                        const std::string& text = "请问积分入学需要哪些材料") {
  auto m = record("mailbox", "mailbox", id, time_ms, text);
  m.category = category;
  m.author = "市民";
  return m;
}

storage::message_record reply_message(const std::string& id, int64_t time_ms, const std::string& unit) {
  auto m = record("mailbox-replies", "mailbox-reply", id, time_ms, "已转相关部门处理");
  m.author = unit;
  return m;
}

// A daemon's mailbox over a store, with the alerts it raises and resolves recorded.
struct fixture {
  temp_dir dir;
  manual_clock clk{at("2026-11-23T09:00:00+08:00")};
  config::daemon_config cfg;
  metrics::registry registry;
  mailbox::probe probe{registry};
  std::shared_ptr<const config::plan> plan;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<mailbox::service> mb;
  std::vector<alerting::alert> raised;
  std::vector<std::string> resolved;

  fixture() {
    auto p = config::load_plan(fs::path(YUQING_SOURCE_DIR) / "seeds" / "plan.yaml");
    REQUIRE(p);
    plan = std::make_shared<const config::plan>(std::move(*p));
    cfg.concentrated_count = 3;
    cfg.concentrated_period_hours = 24;
    cfg.clusters_count = 3;
    cfg.clusters_scope = "mailbox";
    open();
  }

  void open() {
    auto s = storage::store::open({dir.path / "data", false, false});
    REQUIRE(s);
    store = std::move(*s);
    mb = std::make_unique<mailbox::service>(cfg, *store, cn(), plan, probe, clk);
    case_alert_sink sink;
    sink.raise = [this](alerting::alert a) { raised.push_back(std::move(a)); };
    sink.resolve = [this](const std::string& fp, const std::string&) {
      resolved.push_back(fp);
      return true;
    };
    // Started without its thread ticking on its own: stop() then tick by hand.
    REQUIRE(mb->start(sink));
    mb->stop();
  }

  void restart() {
    mb.reset();
    store.reset();
    open();
  }

  void ingest(std::vector<storage::message_record> messages, std::vector<storage::hit_record> hits = {}) {
    storage::batch b;
    b.messages = std::move(messages);
    b.hits = std::move(hits);
    auto changes = mb->changes(b);
    REQUIRE(store->write(b));
    mb->apply(std::move(changes));
  }

  // Alerts raised of one kind, one per fingerprint (raising an active fingerprint again
  // updates its count: the evaluator fires nothing new).
  size_t count(const std::string& kind) const {
    std::set<std::string> fps;
    for (const auto& a : raised)
      if (a.kind == kind) fps.insert(a.fingerprint);
    return fps.size();
  }

  std::string probe_text() const { return registry.expose(); }

  std::vector<mailbox_case> cases(const std::string& state = "") {
    auto c = list_cases(*store, {state, "", 1000}, clk.now_ms());
    REQUIRE(c);
    return *c;
  }
};

}  // namespace

TEST_CASE("calendar: working days skip weekends and holidays and count make-up days", "[mailbox][calendar]") {
  const auto& c = cn();
  // Friday 2026-09-18; Saturday 09-19 is off, Sunday 09-20 is a make-up working day.
  CHECK(c.add_working_days(at("2026-09-18T10:00:00+08:00"), 1) == at("2026-09-21T00:00:00+08:00"));
  CHECK(c.add_working_days(at("2026-09-18T10:00:00+08:00"), 2) == at("2026-09-22T00:00:00+08:00"));
  // National Day: 10-01..10-07 off, Saturday 10-10 works.
  CHECK(c.add_working_days(at("2026-09-30T10:00:00+08:00"), 1) == at("2026-10-09T00:00:00+08:00"));
  CHECK(c.add_working_days(at("2026-09-30T10:00:00+08:00"), 2) == at("2026-10-10T00:00:00+08:00"));
  CHECK(c.add_working_days(at("2026-09-30T10:00:00+08:00"), 3) == at("2026-10-11T00:00:00+08:00"));
  // Received on a holiday: counting starts at the first working day after it.
  CHECK(c.add_working_days(at("2026-10-03T10:00:00+08:00"), 1) == at("2026-10-09T00:00:00+08:00"));
  // An ordinary weekend.
  CHECK(c.add_working_days(at("2026-11-27T23:30:00+08:00"), 2) == at("2026-12-02T00:00:00+08:00"));
  // Spring Festival 2026: 02-15..02-23 off, Saturday 02-14 and 02-28 work.
  CHECK(c.working_day(c.day_of(at("2026-02-14T12:00:00+08:00"))));
  CHECK_FALSE(c.working_day(c.day_of(at("2026-02-23T12:00:00+08:00"))));
  CHECK(c.add_working_days(at("2026-02-13T10:00:00+08:00"), 2) == at("2026-02-25T00:00:00+08:00"));
  // Working hours: Friday 20:00 + 8 h = Monday 04:00 (the weekend does not count).
  CHECK(c.add_working_hours(at("2026-11-27T20:00:00+08:00"), 8) == at("2026-11-30T04:00:00+08:00"));
  // The local date decides: 2026-11-27T17:00Z is already Saturday in Jiangmen.
  CHECK(c.add_working_days(at("2026-11-27T17:00:00Z"), 1) == at("2026-12-01T00:00:00+08:00"));
  CHECK(c.missing_years().count(2026) == 0);
}

TEST_CASE("calendar: a year without its file counts weekends only and says so", "[mailbox][calendar]") {
  calendar c = cn();
  // 2027-01-01 is a Friday; without the 2027 notice it is an ordinary working day.
  CHECK(c.working_day(c.day_of(at("2027-01-01T12:00:00+08:00"))));
  CHECK(c.missing_years().count(2027) == 1);
}

TEST_CASE("calendar: malformed files are refused with file and line", "[mailbox][calendar]") {
  calendar c;
  auto st = c.add_year("year: 2026\nholidays:\n  - {name: x, from: 2026-13-01, to: 2026-13-02}\n", "cn-2026.yaml");
  REQUIRE_FALSE(st);
  CHECK(st.error_message().find("cn-2026.yaml:3:") != std::string::npos);
  st = c.add_year("year: 2026\nworkdays: [2025-12-31]\n", "cn-2026.yaml");
  REQUIRE_FALSE(st);
  CHECK(st.error_message().find("is not in 2026") != std::string::npos);
  CHECK_FALSE(c.add_year("year: 2026\nholidays: [{from: 2026-01-01, to: 2026-01-01}]\nworkdays: [2026-01-01]\n", "f"));
}

TEST_CASE("deadline rules: working days or hours", "[mailbox]") {
  REQUIRE(parse_deadline_rule("15d"));
  CHECK(parse_deadline_rule("15d")->amount == 15);
  CHECK(parse_deadline_rule("36h")->hours);
  CHECK_FALSE(parse_deadline_rule("0d"));
  CHECK_FALSE(parse_deadline_rule("d"));
  CHECK_FALSE(parse_deadline_rule("3w"));
}

TEST_CASE("cases: deadline by category, units from the plan, due_soon and overdue once each", "[mailbox]") {
  fixture f;
  // Monday 09:00: a consultation (2 working days: due end of Wednesday) and a complaint.
  storage::hit_record h;
  h.topic = "consultation";
  h.set_id = "consult";
  h.rule_id = "schooling";
  h.plan_item = 10;
  h.message_key = "yuqing.mailbox/m1";
  f.ingest({mailbox_message("m1", at("2026-11-23T09:00:00+08:00"), "咨询"),
            mailbox_message("m2", at("2026-11-23T09:00:00+08:00"), "投诉", "窗口工作人员推诿")},
           {h});
  auto all = f.cases();
  REQUIRE(all.size() == 2);
  const auto& m1 = all[0].id == "m1" ? all[0] : all[1];
  const auto& m2 = all[0].id == "m1" ? all[1] : all[0];
  CHECK(m1.deadline_ms == at("2026-11-26T00:00:00+08:00"));
  CHECK(m1.deadline_text == "2d");
  CHECK(m1.topics == std::vector<std::string>{"consultation"});
  CHECK(m1.units == std::vector<std::string>{"政策措施牵头起草、组织实施单位"});
  CHECK(m2.deadline_text == "15d");
  CHECK(m2.units == std::vector<std::string>{"宣传科", "指挥中心", "督察支队"});  // plan item 11

  f.mb->tick();
  CHECK(f.raised.empty());
  f.clk.set_ms(at("2026-11-24T23:59:00+08:00"));  // 24 h 1 min before m1's deadline
  f.mb->tick();
  CHECK(f.count("due_soon") == 0);
  f.clk.set_ms(at("2026-11-25T00:00:00+08:00"));
  f.mb->tick();
  f.mb->tick();
  REQUIRE(f.count("due_soon") == 1);
  CHECK(f.raised.back().labels.at("case") == "m1");
  CHECK(f.raised.back().lead_units == m1.units);
  f.clk.set_ms(at("2026-11-26T00:00:00+08:00"));
  f.mb->tick();
  f.mb->tick();
  CHECK(f.count("overdue") == 1);
  CHECK(f.count("due_soon") == 1);
  CHECK(std::count(f.resolved.begin(), f.resolved.end(), "mailbox/due_soon/m1") == 1);
  CHECK(f.cases("overdue").size() == 1);
  CHECK(f.cases("open").size() == 1);

  // A restart in the middle: the cases and the alerts already sent are known.
  f.restart();
  f.mb->tick();
  CHECK(f.count("overdue") == 1);
  CHECK(f.count("due_soon") == 1);
  CHECK(f.mb->open_cases() == 2);

  // The late reply closes m1 and resolves its overdue alert.
  f.ingest({reply_message("m1", at("2026-11-26T10:00:00+08:00"), "宣传科")});
  CHECK(std::count(f.resolved.begin(), f.resolved.end(), "mailbox/overdue/m1") == 1);
  auto closed = f.cases("closed");
  REQUIRE(closed.size() == 1);
  CHECK_FALSE(closed[0].on_time());
  CHECK(closed[0].reply->unit == "宣传科");
  CHECK(f.mb->open_cases() == 1);
}

TEST_CASE("cases: a reply that arrives before its message closes the case when it comes", "[mailbox]") {
  fixture f;
  f.ingest({reply_message("m9", at("2026-11-24T10:00:00+08:00"), "指挥中心")});
  auto only = f.cases("reply_only");
  REQUIRE(only.size() == 1);
  CHECK_FALSE(only[0].opened);
  f.restart();  // kept in the store meanwhile
  f.ingest({mailbox_message("m9", at("2026-11-23T16:00:00+08:00"), "求助")});
  auto closed = f.cases("closed");
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].on_time());
  CHECK(f.cases("reply_only").empty());
  CHECK(f.mb->open_cases() == 0);
  // Message and reply in the same batch, reply first.
  f.ingest({reply_message("m10", at("2026-11-24T10:00:00+08:00"), "宣传科"),
            mailbox_message("m10", at("2026-11-23T17:00:00+08:00"), "建议")});
  CHECK(f.cases("closed").size() == 2);
  CHECK(f.mb->open_cases() == 0);
  f.clk.set_ms(at("2026-12-31T00:00:00+08:00"));
  f.mb->tick();
  CHECK(f.raised.empty());
}

TEST_CASE("cases: the report counts on time, late, open and overdue by unit, category and topic", "[mailbox]") {
  fixture f;
  f.ingest({mailbox_message("a", at("2026-11-02T09:00:00+08:00"), "咨询"),   // due 11-05 00:00
            mailbox_message("b", at("2026-11-02T09:00:00+08:00"), "咨询"),   // replied late
            mailbox_message("c", at("2026-11-03T09:00:00+08:00"), "投诉"),   // open on 11-10
            mailbox_message("d", at("2026-11-03T09:00:00+08:00"), "咨询"),   // overdue on 11-10
            mailbox_message("e", at("2026-10-20T09:00:00+08:00"), "咨询")}); // before the period
  f.ingest({reply_message("a", at("2026-11-03T09:00:00+08:00"), "宣传科"),
            reply_message("b", at("2026-11-06T09:00:00+08:00"), "宣传科"),
            reply_message("zz", at("2026-11-06T09:00:00+08:00"), "宣传科")});
  auto r = build_report(*f.store, at("2026-11-01T00:00:00+08:00"), at("2026-11-08T00:00:00+08:00"),
                        at("2026-11-10T00:00:00+08:00"));
  REQUIRE(r);
  CHECK(r->total.received == 4);
  CHECK(r->total.on_time == 1);
  CHECK(r->total.late == 1);
  CHECK(r->total.open == 1);
  CHECK(r->total.overdue == 1);
  CHECK(r->by_category["咨询"].received == 3);
  CHECK(r->by_category["投诉"].open == 1);
  CHECK(r->by_unit["督察支队"].received == 4);
  CHECK(r->total.median_hours() == Approx(24.0));  // replies after 24 h and 96 h
  CHECK(r->total.p90_hours() == Approx(96.0));
  CHECK(r->unmatched_replies == 1);
  CHECK(r->to_markdown().find("| all | 4 | 1 | 1 | 1 | 1 |") != std::string::npos);
  CHECK(r->to_csv().find("category,\"咨询\",3,1,1,0,1,") != std::string::npos);
}

TEST_CASE("cases: many messages on one category are a concentrated issue, raised once", "[mailbox]") {
  fixture f;  // more than 3 in 24 h
  const std::vector<std::string> texts = {"窗口工作人员推诿", "工地夜间施工噪音扰民", "物业乱收停车费",
                                          "公交线路被取消出行不便", "菜市场占道经营"};
  for (int i = 0; i < 5; ++i)
    f.ingest({mailbox_message("q" + std::to_string(i), at("2026-11-23T09:00:00+08:00") + i * 3600000, "投诉",
                              texts[static_cast<size_t>(i)])});
  CHECK(f.count("concentrated_issue") == 1);  // at the 4th, updated at the 5th
  const auto a = f.raised.back();
  CHECK(a.count == 5);
  CHECK(a.fingerprint == "mailbox/concentrated_issue/category/投诉");
  // Two days later the period holds one message: resolved.
  f.ingest({mailbox_message("q9", at("2026-11-25T12:00:00+08:00"), "投诉", "又一个问题")});
  CHECK(std::count(f.resolved.begin(), f.resolved.end(), "mailbox/concentrated_issue/category/投诉") == 1);
  auto r = build_report(*f.store, at("2026-11-01T00:00:00+08:00"), at("2026-12-01T00:00:00+08:00"), f.clk.now_ms());
  REQUIRE(r);
  REQUIRE(r->issues.size() == 1);
  CHECK(r->issues[0].by == "category");
  CHECK(r->issues[0].count == 5);
  CHECK_FALSE(r->issues[0].active);
}

TEST_CASE("cases: a topic that grows by the factor against the period before is concentrated", "[mailbox]") {
  fixture f;
  f.cfg.concentrated_count = 100;  // only the growth rule
  f.cfg.concentrated_factor = 3;
  f.cfg.concentrated_min_count = 5;
  f.restart();
  const std::vector<std::string> texts = {"甲乙丙丁", "戊己庚辛", "子丑寅卯", "辰巳午未", "申酉戌亥",
                                          "东南西北", "春夏秋冬", "金木水火"};
  auto hit_of = [](const std::string& id) {
    storage::hit_record h;
    h.topic = "schooling";
    h.set_id = "s";
    h.rule_id = "r";
    h.message_key = "yuqing.mailbox/" + id;
    return h;
  };
  const int64_t day1 = at("2026-11-23T09:00:00+08:00"), day2 = day1 + 24 * 3600000;
  for (int i = 0; i < 2; ++i) {  // two the day before (another category: it does not grow)
    const std::string id = "p" + std::to_string(i);
    f.ingest({mailbox_message(id, day1 + i * 60000, "求助", texts[static_cast<size_t>(i)])}, {hit_of(id)});
  }
  for (int i = 2; i < 7; ++i) {  // 5 now: not yet 3x2
    const std::string id = "p" + std::to_string(i);
    f.ingest({mailbox_message(id, day2 + i * 60000, "咨询", texts[static_cast<size_t>(i)])}, {hit_of(id)});
  }
  CHECK(f.count("concentrated_issue") == 0);
  f.ingest({mailbox_message("p7", day2 + 7 * 60000, "咨询", texts[7])}, {hit_of("p7")});  // 6 = 3x2
  REQUIRE(f.count("concentrated_issue") == 1);
  CHECK(f.raised.back().fingerprint == "mailbox/concentrated_issue/topic/schooling");
  CHECK(f.raised.back().topic == "schooling");
  CHECK(f.raised.back().baseline == 2);
}

TEST_CASE("clusters: lightly edited copies group together, unrelated messages stay apart", "[mailbox][clusters]") {
  clusterer c({0.5, int64_t{7} * 86400000, 1000});
  const std::vector<std::string> base = {
      "投诉会城工地夜间施工噪音扰民，已经一个月了，多次反映没有结果",
      "举报某公司拖欠工资半年，几十名工人讨说法，劳动监察不作为",
      "小区旁边的垃圾站臭气熏天，夏天根本不敢开窗，希望尽快搬迁"};
  const std::vector<std::string> others = {
      "孩子今年秋季入学，积分入学需要哪些材料？", "建议在北街路口增设红绿灯，早晚高峰很危险。",
      "退休金什么时候调整？想咨询养老金的计算方式。", "居住证办理难，跑了好几趟派出所还是办不了。",
      "江门的陈皮今年价格涨了不少", "周末带孩子去公园放风筝，天气很好"};
  int64_t t = 1000;
  std::map<std::string, uint64_t> cluster_of;
  auto add = [&](const std::string& key, const std::string& text) {
    clusterer::member m;
    m.key = key;
    m.time_ms = t += 1000;
    m.sig = sign(text);
    m.excerpt = text;
    cluster_of[key] = c.add(std::move(m)).first;
  };
  for (int copy = 0; copy < 4; ++copy) {
    for (size_t g = 0; g < base.size(); ++g) {
      std::string text = base[g];
      if (copy == 1) text = "【转】" + text + "！！";                 // decorated
      if (copy == 2) text.replace(text.find("，"), 3, " ");         // punctuation edited
      if (copy == 3) text = text.substr(0, text.size() - 9) + "，请领导重视";  // ending changed
      add("g" + std::to_string(g) + "-" + std::to_string(copy), text);
    }
  }
  for (size_t i = 0; i < others.size(); ++i) add("o" + std::to_string(i), others[i]);
  std::set<uint64_t> big;
  for (const auto& [key, cl] : cluster_of)
    if (c.size_of(cl) >= 3) big.insert(cl);
  CHECK(big.size() == 3);
  for (size_t g = 0; g < base.size(); ++g) {
    const auto cl = cluster_of["g" + std::to_string(g) + "-0"];
    CHECK(c.size_of(cl) == 4);
    for (int copy = 1; copy < 4; ++copy) CHECK(cluster_of["g" + std::to_string(g) + "-" + std::to_string(copy)] == cl);
  }
  for (size_t i = 0; i < others.size(); ++i) CHECK(c.size_of(cluster_of["o" + std::to_string(i)]) == 1);
  // Old members leave with the window.
  c.expire(t + int64_t{7} * 86400000 + 1000000);
  CHECK(c.tracked() == 0);
  // Invalid UTF-8 and empty text have signatures too.
  CHECK(similarity(sign("\xff\xfe"), sign("\xff\xfe")) == 1.0);
  CHECK(similarity(sign(""), sign("")) == 1.0);
}

TEST_CASE("cases: near-duplicate mailbox messages raise a text concentrated issue that survives a restart", "[mailbox][clusters]") {
  fixture f;
  const std::string text = "举报某公司拖欠工资半年，几十名工人讨说法，劳动监察不作为";
  f.ingest({mailbox_message("d1", at("2026-11-23T09:00:00+08:00"), "举报", text),
            mailbox_message("d2", at("2026-11-23T10:00:00+08:00"), "投诉", "【转】" + text)});
  CHECK(f.count("concentrated_issue") == 0);
  f.restart();
  f.ingest({mailbox_message("d3", at("2026-11-23T11:00:00+08:00"), "建议", text + "，请领导重视")});
  REQUIRE(f.count("concentrated_issue") == 1);
  const auto a = f.raised.back();
  CHECK(a.fingerprint.rfind("mailbox/concentrated_issue/text/", 0) == 0);
  CHECK(a.count == 3);
  f.restart();
  const size_t before = f.raised.size();
  f.ingest({mailbox_message("d4", at("2026-11-23T12:00:00+08:00"), "求助", text)});
  REQUIRE(f.raised.size() == before + 1);
  CHECK(f.raised.back().count == 4);
  CHECK(f.probe_text().find("yuqing_mailbox_alerts_total{kind=\"concentrated_issue\"} 1") != std::string::npos);
  CHECK(f.raised.back().fingerprint == a.fingerprint);  // the same issue, grown
}

TEST_CASE("cases: cluster members past the window leave memory and the store", "[mailbox][clusters]") {
  fixture f;
  f.cfg.clusters_window_hours = 1;
  f.restart();
  f.ingest({mailbox_message("w1", at("2026-11-23T09:00:00+08:00"), "咨询", "第一条留言的内容")});
  f.ingest({mailbox_message("w2", at("2026-11-23T12:00:00+08:00"), "咨询", "第二条完全不同")});
  f.mb->tick();
  std::vector<std::string> kept;
  REQUIRE(f.store->scan("mailbox", mailbox::mailbox_keys::members, [&](std::string_view k, std::string_view) {
    kept.emplace_back(k.substr(10));
    return true;
  }));
  CHECK(kept == std::vector<std::string>{"yuqing.mailbox/w2"});
}

namespace {

// The sample stream (seeds/sample), each message with its topic, in the order of its time
// (the message that reaches yuqing after its reply last), as the demo feeds it.
struct stream_message {
  std::string topic, payload;
  int64_t time_ms;
};

std::vector<stream_message> sample_stream() {
  std::vector<stream_message> out, late;
  const std::vector<std::pair<std::string, std::string>> files = {
      {"posts", "yuqing.posts"}, {"news", "yuqing.news"}, {"mailbox", "yuqing.mailbox"},
      {"replies", "yuqing.mailbox-replies"}, {"mailbox-late", "yuqing.mailbox"}};
  for (const auto& [file, topic] : files) {
    std::ifstream in(fs::path(YUQING_SOURCE_DIR) / "seeds" / "sample" / (file + ".jsonl"));
    int64_t t = 0;  // a line without a time (the sample's bad input) keeps the one before
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const std::string key = file == "replies" ? "\"replied_at\": \"" : "\"published_at\": \"";
      if (const auto at_key = line.find(key); at_key != std::string::npos)
        REQUIRE(common::parse_rfc3339(line.substr(at_key + key.size(), 25), t));
      (file == "mailbox-late" ? late : out).push_back({topic, line, t});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  out.insert(out.end(), late.begin(), late.end());
  return out;
}

// What one run of the stream leaves: alerts raised and resolved, cases and the report.
struct run_outcome {
  std::set<std::pair<std::string, std::string>> raised;  // fingerprint, level
  std::set<std::string> resolved;
  std::string cases, report;
  size_t batches = 0;
};

// Feeds the sample stream through the batch builder (matched against the shipped sets) and
// the mailbox in batches of the sizes `next_size` gives, ticking after every batch while
// the replies are behind (a backlog read after an outage), then once when read to the end.
run_outcome run_sample(const std::function<size_t()>& next_size) {
  static const auto stream = sample_stream();
  static const auto sets = matchers::load_directory(fs::path(YUQING_SOURCE_DIR) / "seeds" / "keyword-sets");
  REQUIRE(sets.error_count() == 0);
  auto loaded = config::load_file(fs::path(YUQING_SOURCE_DIR) / "config" / "yuqing.yaml");
  REQUIRE(loaded);
  config::daemon_config cfg = *loaded;
  temp_dir dir;
  manual_clock clk{at("2022-11-25T13:00:00+08:00")};
  metrics::registry registry;
  mailbox::probe probe{registry};
  auto plan = config::load_plan(fs::path(YUQING_SOURCE_DIR) / "seeds" / "plan.yaml");
  REQUIRE(plan);
  auto store = storage::store::open({dir.path / "data", false, false});
  REQUIRE(store);
  mailbox::service mb(cfg, **store, cn(), std::make_shared<const config::plan>(std::move(*plan)), probe, clk);
  run_outcome out;
  case_alert_sink sink;
  sink.raise = [&](alerting::alert a) { out.raised.insert({a.fingerprint, alerting::to_string(a.level)}); };
  sink.resolve = [&](const std::string& fp, const std::string&) {
    out.resolved.insert(fp);
    return true;
  };
  REQUIRE(mb.start(sink));
  mb.stop();
  batch_builder builder(cfg);
  reply_progress behind{true, 1, 1, 0};
  for (size_t i = 0; i < stream.size();) {
    const size_t n = std::min(next_size(), stream.size() - i);
    std::vector<raw_message> raw;
    for (size_t k = i; k < i + n; ++k)
      raw.push_back({stream[k].topic, 0, static_cast<int64_t>(k), stream[k].time_ms, stream[k].payload});
    storage::batch b;
    std::vector<rejected_message> rejected;
    builder.build(raw, *sets.sets, clk.now_ms(), b, rejected);
    for (const auto& m : b.messages)
      if (m.kind == "mailbox-reply") behind.read_until_ms = std::max(behind.read_until_ms, m.time_ms);
    auto changes = mb.changes(b);
    REQUIRE((*store)->write(b));
    mb.apply(std::move(changes));
    mb.replies_read(behind);
    mb.tick();
    i += n;
    ++out.batches;
  }
  mb.replies_read({true, 1, 0, std::numeric_limits<int64_t>::max()});
  mb.tick();
  auto cases = list_cases(**store, {"", "", 1000}, clk.now_ms());
  REQUIRE(cases);
  for (const auto& c : *cases) out.cases += c.to_json(clk.now_ms()) + "\n";
  auto report = build_report(**store, at("2022-10-01T00:00:00+08:00"), clk.now_ms(), clk.now_ms());
  REQUIRE(report);
  out.report = report->to_json();
  return out;
}

}  // namespace

TEST_CASE("cases: one stream gives the same cases, issues, alerts and report however it is batched",
          "[mailbox][determinism]") {
  const auto whole = run_sample([] { return size_t{100000}; });
  const auto ones = run_sample([] { return size_t{1}; });
  std::mt19937 rng(20261202);
  const auto random = run_sample([&] { return std::uniform_int_distribution<size_t>(1, 40)(rng); });
  CHECK(whole.batches == 1);
  CHECK(ones.batches == 351);
  for (const auto* other : {&ones, &random}) {
    CHECK(other->raised == whole.raised);
    CHECK(other->resolved == whole.resolved);
    CHECK(other->cases == whole.cases);
    CHECK(other->report == whole.report);
  }
  // Not vacuous: the sample has concentrated issues by category, topic and text.
  std::set<std::string> kinds;
  for (const auto& [fp, level] : whole.raised) kinds.insert(fp.substr(0, fp.rfind('/')));
  CHECK(kinds.count("mailbox/concentrated_issue/category"));
  CHECK(kinds.count("mailbox/concentrated_issue/topic"));
  CHECK(kinds.count("mailbox/concentrated_issue/text"));
}

TEST_CASE("cases: a backlog read after an outage raises overdue only for cases not answered in time",
          "[mailbox][determinism]") {
  const auto r = run_sample([] { return size_t{25}; });
  // The cases that deserve an overdue alert: unanswered past the deadline, or answered late.
  // Due soon: only the cases still open within a day of their deadline once the replies
  // are read to the end (the last tick), none while the backlog is read.
  const int64_t now = at("2022-11-25T13:00:00+08:00");
  std::set<std::string> expected, raised, expected_soon, due_soon;
  std::istringstream cases(r.cases);
  for (std::string line; std::getline(cases, line);) {
    const auto j = nlohmann::json::parse(line);
    const bool late = j["state"] == "overdue" || (j["state"] == "closed" && !j["on_time"].get<bool>());
    if (late) expected.insert("mailbox/overdue/" + j["id"].get<std::string>());
    if (j["state"] == "open" && at(j["deadline"]) - now <= 24 * 3600000)
      expected_soon.insert("mailbox/due_soon/" + j["id"].get<std::string>());
  }
  for (const auto& [fp, level] : r.raised) {
    if (fp.rfind("mailbox/overdue/", 0) == 0) raised.insert(fp);
    if (fp.rfind("mailbox/due_soon/", 0) == 0) due_soon.insert(fp);
  }
  CHECK_FALSE(expected.empty());
  CHECK(raised == expected);  // exactly one per late case, none for a case answered on time
  CHECK(due_soon == expected_soon);
}

TEST_CASE("clusters: a cluster is labelled by what it holds, and reposts of an official source are no issue",
          "[mailbox][clusters]") {
  fixture f;
  f.cfg.clusters_scope = "all";
  f.cfg.clusters_official_sources = {"江门日报"};
  f.restart();
  auto post = [](const std::string& id, int64_t t, const std::string& text, const std::string& source = "weibo") {
    auto m = record("posts", "post", id, t, text);
    m.source_name = source;
    return m;
  };
  auto hit = [](const std::string& key) {
    storage::hit_record h;
    h.topic = "gov-opinion";
    h.set_id = "s";
    h.rule_id = "r";
    h.message_key = key;
    return h;
  };
  const int64_t t0 = at("2026-11-23T09:00:00+08:00");
  const std::string copied = "营业执照办了一个月还没下来，窗口说系统故障，大家有没有同样遇到的";
  const std::string official = "市税务局答记者问：个税汽车退税怎么办理，详情见原文链接";
  const std::string mixed = "小区旁边的垃圾站臭气熏天，夏天根本不敢开窗，希望尽快搬迁";
  for (int i = 0; i < 3; ++i) {
    const auto n = std::to_string(i);
    // Three copies of one post: 同文多发 on the topic the posts hit (plan item 12).
    f.ingest({post("c" + n, t0 + i * 60000, copied + std::string(static_cast<size_t>(i), '!'))},
             {hit("yuqing.posts/c" + n)});
    // An official item and two reposts of it: nothing.
    f.ingest({post("o" + n, t0 + i * 60000, official, i == 0 ? "江门日报" : "douyin")});
  }
  // Two posts and one mailbox message of one text: a mailbox concentrated issue (item 11).
  f.ingest({post("m0", t0, mixed), post("m1", t0 + 1000, "【转】" + mixed)});
  f.ingest({mailbox_message("m2", t0 + 2000, "投诉", mixed + "！！")});

  std::map<std::string, alerting::alert> by_kind;
  for (const auto& a : f.raised) by_kind[a.kind] = a;
  REQUIRE(f.count("same_text") == 1);
  CHECK(by_kind["same_text"].plan_item == 12);
  CHECK(by_kind["same_text"].topic == "gov-opinion");
  CHECK(by_kind["same_text"].fingerprint.rfind("opinion/same_text/", 0) == 0);
  CHECK(by_kind["same_text"].count == 3);
  REQUIRE(f.count("concentrated_issue") == 1);
  CHECK(by_kind["concentrated_issue"].plan_item == 11);
  CHECK(by_kind["concentrated_issue"].fingerprint.rfind("mailbox/concentrated_issue/text/", 0) == 0);
  for (const auto& a : f.raised) CHECK(a.examples.front().text.find("个税") == std::string::npos);

  auto r = build_report(*f.store, t0 - 86400000, t0 + 86400000, t0 + 3600000);
  REQUIRE(r);
  REQUIRE(r->issues.size() == 1);
  CHECK(r->issues[0].by == "text");
  REQUIRE(r->same_text.size() == 1);
  CHECK(r->same_text[0].topic == "gov-opinion");
  const auto md = r->to_markdown();
  CHECK(md.find("## 留言集中反映问题") != std::string::npos);
  CHECK(md.find("## 同文多发") != std::string::npos);
  // The labels survive a restart (the stored members carry them).
  f.restart();
  f.ingest({post("c9", t0 + 600000, copied)}, {hit("yuqing.posts/c9")});
  CHECK(f.count("same_text") == 1);
  CHECK(f.raised.back().kind == "same_text");
  CHECK(f.raised.back().count == 4);
}

TEST_CASE("clusters: a flood of one copied text is one cluster, forgotten member by member",
          "[mailbox][clusters]") {
  clusterer c({0.5, int64_t{3600} * 1000, 100000});
  const auto sig = sign("江门疫情确诊，请大家注意防护");
  for (int i = 0; i < 20000; ++i) {
    clusterer::member m;
    m.key = "k" + std::to_string(i);
    m.time_ms = 1000 + i;
    m.sig = sig;
    const auto [cluster, size] = c.add(std::move(m));
    REQUIRE(size == static_cast<size_t>(i + 1));
  }
  CHECK(c.clusters() == 1);
  // A different text among them starts its own cluster.
  clusterer::member other;
  other.key = "other";
  other.time_ms = 30000;
  other.sig = sign("周末带孩子去公园放风筝，天气很好");
  CHECK(c.add(std::move(other)).second == 1);
  CHECK(c.expire(1000 + 10000 + 3600 * 1000) == 10000);  // the oldest half leaves
  CHECK(c.tracked() == 10001);
  // The cluster is still found by a new copy after its first members left.
  clusterer::member again;
  again.key = "again";
  again.time_ms = 3600 * 1000 + 20000;
  again.sig = sig;
  CHECK(c.add(std::move(again)).second == 10001);
  CHECK(c.expire(int64_t{10} * 3600 * 1000) == 10002);
  CHECK(c.clusters() == 0);
}
