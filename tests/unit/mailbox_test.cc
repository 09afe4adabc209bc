// Governor's-mailbox cases with an injected clock: reply deadlines across weekends,
// holidays and make-up working days; a reply before its message; due_soon and overdue fire
// once; a restart in the middle keeps every case and alert; the report's figures; text
// clustering of lightly edited copies.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "config/clock.h"
#include "config/plan.h"
#include "daemon/calendar.h"
#include "daemon/cases.h"
#include "daemon/clusters.h"
#include "daemon/decoder.h"
#include "daemon/mailbox.h"
#include "daemon/probe.h"
#include "storage/store.h"

using namespace yuqing;
using namespace yuqing::daemon;
namespace fs = std::filesystem;

namespace {

int64_t at(const std::string& rfc3339) {
  int64_t ms = 0;
  REQUIRE(parse_rfc3339(rfc3339, ms));
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

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/yuqing-mailbox-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

storage::message_record mailbox_message(const std::string& id, int64_t time_ms, const std::string& category,
                                        const std::string& text = "请问积分入学需要哪些材料") {
  storage::message_record m;
  m.channel = "mailbox";
  m.kind = "mailbox";
  m.source = {"yuqing.mailbox", 0, 0};
  m.id = id;
  m.key = "yuqing.mailbox/" + id;
  m.time_ms = time_ms;
  m.category = category;
  m.author = "市民";
  m.text = {{"content", text}};
  return m;
}

storage::message_record reply_message(const std::string& id, int64_t time_ms, const std::string& unit) {
  storage::message_record m;
  m.channel = "mailbox-replies";
  m.kind = "mailbox-reply";
  m.source = {"yuqing.mailbox-replies", 0, 0};
  m.id = id;
  m.key = "yuqing.mailbox-replies/" + id;
  m.time_ms = time_ms;
  m.author = unit;
  m.text = {{"content", "已转相关部门处理"}};
  return m;
}

// A daemon's mailbox over a store, with the alerts it raises and resolves recorded.
struct fixture {
  temp_dir dir;
  manual_clock clk{at("2026-11-23T09:00:00+08:00")};
  config::daemon_config cfg;
  metrics registry;
  mailbox_probe probe{registry};
  std::shared_ptr<const config::plan> plan;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<mailbox> mb;
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
    mb = std::make_unique<mailbox>(cfg, *store, cn(), plan, probe, clk);
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
    auto changes = mb->prepare(b);
    REQUIRE(store->write(b));
    mb->stored(std::move(changes));
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
  REQUIRE(f.store->scan_mailbox(mailbox_keys::members, {}, [&](std::string_view k, std::string_view) {
    kept.emplace_back(k.substr(10));
    return true;
  }));
  CHECK(kept == std::vector<std::string>{"yuqing.mailbox/w2"});
}
