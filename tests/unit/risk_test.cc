// risk: the index on synthetic streams of a known shape, its independence from batching,
// the gazetteer, tendency with negation, lexicon errors and the policy follow-up.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "config/clock.h"
#include "risk/risk.h"

using namespace yuqing;
namespace fs = std::filesystem;

namespace {

constexpr int64_t minute = 60 * 1000, hour = 60 * minute, day = 24 * hour;
constexpr int64_t t0 = 1793491200000;  // 2026-11-01T00:00:00Z

struct msg {
  std::string key, topic, channel, source, author, region, text, kind = "post", id, category;
  int64_t time_ms = 0;
};

storage::batch batch_of(const std::vector<msg>& ms) {
  storage::batch b;
  for (const auto& m : ms) {
    storage::message_record r;
    r.key = m.key, r.channel = m.channel, r.kind = m.kind, r.time_ms = m.time_ms, r.id = m.id;
    r.author = m.author, r.source_name = m.source, r.region = m.region, r.category = m.category;
    r.text = {{"content", m.text}};
    b.messages.push_back(r);
    if (m.topic.empty()) continue;
    storage::hit_record h;
    h.topic = m.topic, h.time_ms = m.time_ms, h.message_key = m.key, h.channel = m.channel, h.author = m.author;
    h.set_id = m.topic, h.rule_id = "r1";
    b.hits.push_back(h);
  }
  return b;
}

const char* districts[] = {"蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"};

// `per_hour` messages of `topic` in [from, to), evenly spaced, on one channel and source,
// by eight authors; every third message names its district in the text only, and one in ten
// none at all.
void flat(std::vector<msg>& out, const std::string& topic, int64_t from, int64_t to, int per_hour) {
  const int64_t gap = hour / per_hour;
  int i = 0;
  for (int64_t t = from; t < to; t += gap, ++i) {
    msg m;
    m.key = "posts/" + topic + "-" + std::to_string(t), m.topic = topic, m.channel = "posts", m.source = "weibo";
    m.author = "居民" + std::to_string(i % 8), m.time_ms = t;
    const std::string d = districts[i % 7];
    if (i % 10 == 5) m.text = "路灯的事";  // no region anywhere: 未知
    else if (i % 3 == 0) m.text = "听说" + d.substr(0, 6) + "那边路灯坏了";
    else m.region = d, m.text = "路灯的事";
    out.push_back(m);
  }
}

// The wave: `per_hour` messages in [from, to) on three channels and three sources, each by
// its own author.
void wave(std::vector<msg>& out, const std::string& topic, int64_t from, int64_t to, int per_hour) {
  const int64_t gap = hour / per_hour;
  const char* channels[] = {"posts", "news", "forum"};
  int i = 0;
  for (int64_t t = from; t < to; t += gap, ++i) {
    msg m;
    m.key = std::string(channels[i % 3]) + "/" + topic + "-w" + std::to_string(t), m.topic = topic;
    m.channel = channels[i % 3], m.source = std::string("src") + std::to_string(i % 3);
    m.author = "网友" + std::to_string(i), m.time_ms = t, m.region = districts[i % 7], m.text = "路灯全坏了";
    out.push_back(m);
  }
}

// Eight days: "flat" at 10 an hour throughout; "wave" at 10 an hour, plus on the last day
// from 10:00 to 13:00 twenty more an hour (30 in all) on three channels.
std::vector<msg> synthetic_stream() {
  std::vector<msg> s;
  flat(s, "flat", t0, t0 + 8 * day, 10);
  flat(s, "wave", t0, t0 + 8 * day, 10);
  wave(s, "wave", t0 + 7 * day + 10 * hour, t0 + 7 * day + 13 * hour, 20);
  std::sort(s.begin(), s.end(), [](const msg& a, const msg& b) { return a.time_ms < b.time_ms; });
  return s;
}

risk::gazetteer jiangmen() {
  auto g = risk::gazetteer::load(YUQING_SOURCE_DIR "/seeds/gazetteer/jiangmen.yaml");
  REQUIRE(g.ok());
  return *g;
}

std::vector<risk::level> levels_of(const std::vector<risk::reading>& rs) {
  std::vector<risk::level> out;
  for (const auto& r : rs) out.push_back(r.lvl);
  return out;
}

// Level changes along a series.
int changes(const std::vector<risk::level>& ls) {
  int n = 0;
  for (size_t i = 1; i < ls.size(); ++i) n += ls[i] != ls[i - 1];
  return n;
}

}  // namespace

TEST_CASE("a flat topic stays low and a tripled topic spread to three channels rises to high and falls back", "[risk]") {
  risk::engine e(risk::options{}, nullptr, jiangmen());
  e.observe(batch_of(synthetic_stream()));
  const auto flat_day = e.series("flat", risk::all_regions, t0 + 6 * day, t0 + 8 * day);
  REQUIRE(flat_day.size() == 2 * 144);
  for (const auto& r : flat_day) {
    INFO(risk::local_time(r.at_ms, 480) << " " << r.value);
    CHECK(r.lvl == risk::level::low);
    CHECK(r.value < 25);
  }
  const auto last = e.series("wave", risk::all_regions, t0 + 7 * day, t0 + 8 * day);
  const auto ls = levels_of(last);
  const auto peak = std::max_element(last.begin(), last.end(), [](auto& a, auto& b) { return a.value < b.value; });
  INFO("peak " << peak->value << " at " << risk::local_time(peak->at_ms, 0));
  CHECK(peak->lvl == risk::level::high);
  CHECK(peak->fig.messages == 30);
  CHECK(peak->fig.channels == 3);
  CHECK(peak->fig.baseline == Approx(10));
  // Before 10:00 low; at its height high; back to low by 15:00; no flapping: the levels
  // go up and then down, once each way (low -> medium -> high -> medium -> low).
  CHECK(ls.front() == risk::level::low);
  CHECK(ls.back() == risk::level::low);
  CHECK(changes(ls) == 4);
  CHECK(std::is_sorted(ls.begin(), ls.begin() + (peak - last.begin())));
  CHECK(std::is_sorted(ls.rbegin(), ls.rend() - (peak - last.begin())));
  const auto after = e.at(t0 + 7 * day + 15 * hour, {"wave", risk::all_regions});
  REQUIRE(after.size() == 1);
  CHECK(after[0].lvl == risk::level::low);
  // Every part is there, and they add up to the value.
  double sum = 0;
  for (const auto& p : peak->parts) sum += p.points;
  CHECK(sum == Approx(peak->value).margin(0.05));
  CHECK(peak->parts.size() == 5);
  CHECK_FALSE(peak->parts[3].known);  // negative share: no lexicon
}

TEST_CASE("the index series is the same fed whole, one message a batch or in random batches", "[risk]") {
  const auto stream = synthetic_stream();
  auto all_series = [](const risk::engine& e) {
    std::vector<std::string> out;
    for (const auto& r0 : e.at(t0 + 8 * day)) {
      for (const auto& r : e.series(r0.topic, r0.region, t0, t0 + 8 * day))
        out.push_back(r.topic + "|" + r.region + "|" + std::to_string(r.at_ms) + "|" + r.to_json());
    }
    return out;
  };
  risk::engine whole(risk::options{}, nullptr, jiangmen());
  whole.observe(batch_of(stream));
  const auto expected = all_series(whole);
  REQUIRE(expected.size() > 1000);

  risk::engine single(risk::options{}, nullptr, jiangmen());
  for (size_t i = 0; i < stream.size(); ++i) {
    single.observe(batch_of({stream[i]}));
    if (i % 7 == 0) (void)single.current();  // the daemon reads between batches: the caches fill
  }
  CHECK(all_series(single) == expected);

  std::mt19937 rng(24);
  auto shuffled = stream;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  risk::engine random(risk::options{}, nullptr, jiangmen());
  for (size_t i = 0, n = 0; i < shuffled.size(); i += n, ++n) {
    n = std::uniform_int_distribution<size_t>(1, 400)(rng);
    random.observe(batch_of({shuffled.begin() + i, shuffled.begin() + std::min(shuffled.size(), i + n)}));
    if (n % 5 == 0) (void)random.current();
  }
  CHECK(all_series(random) == expected);
  // A replay (the same keys again) changes nothing.
  random.observe(batch_of({stream.begin(), stream.begin() + 500}));
  CHECK(all_series(random) == expected);
}

TEST_CASE("the gazetteer places messages by field, alias or text", "[risk]") {
  const auto g = jiangmen();
  CHECK(g.regions().size() == 7);
  CHECK(g.place("台山市", "新会的事") == "台山市");
  CHECK(g.place("台山", "") == "台山市");
  CHECK(g.place("广州市", "新会") == "广州市");  // a field the gazetteer does not know stays
  CHECK(g.place("", "会城街道积水") == "新会区");
  CHECK(g.place("", "从赤坎到开平") == "开平市");
  CHECK(g.place("", "上下川岛的渡轮") == "台山市");
  CHECK(g.place("", "中华人民共和国") == "");
  CHECK(g.canonical("蓬江") == "蓬江区");
  auto dup = risk::gazetteer::parse("regions:\n  - name: 甲区\n    aliases: [甲]\n  - name: 乙区\n    aliases: [乙, 甲]\n",
                                    "g.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error_message() == "g.yaml:5:18: 「甲」 already stands for 甲区");
}

TEST_CASE("tendency with negation and degree on a small labelled list", "[risk]") {
  auto lex = risk::lexicon::load(YUQING_SOURCE_DIR "/tests/data/risk-lexicon");
  REQUIRE(lex.ok());
  const std::vector<std::pair<std::string, risk::tendency>> labelled = {
      {"窗口工作人员态度非常好，办事高效", risk::tendency::positive},
      {"对处理结果不满意", risk::tendency::negative},
      {"对处理结果很满意", risk::tendency::positive},
      {"服务并不好", risk::tendency::negative},
      {"办理过程不是很方便", risk::tendency::negative},
      {"没有不满，感谢民警", risk::tendency::positive},
      {"上个月的留言到现在没人回复，投诉处理石沉大海", risk::tendency::negative},
      {"今天天气晴", risk::tendency::neutral},
      {"不是不好", risk::tendency::positive},
      {"工地拖欠工资半年了", risk::tendency::negative},
      {"不，满意", risk::tendency::positive},  // a clause break ends the negation
      {"ＯＫ，很滿意", risk::tendency::positive},  // full width and traditional fold
  };
  for (const auto& [text, want] : labelled) {
    const auto a = risk::assess(lex->get(), text);
    INFO(text << " score " << a.score);
    CHECK(a.t == want);
  }
  CHECK(risk::assess(lex->get(), "非常满意").score == Approx(2));
  CHECK(risk::assess(lex->get(), "不满意").evidence == std::vector<std::string>{"不满:-1"});
  CHECK(risk::assess(lex->get(), "不太满意").evidence == std::vector<std::string>{"不太满意:-1.8"});
  // Without lists nothing is guessed.
  CHECK(risk::assess(nullptr, "非常不满意").t == risk::tendency::unknown);
}

TEST_CASE("bad lexicon files get file, line and column", "[risk]") {
  char tmpl[] = "/tmp/yuqing-risk-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  auto write = [&](const char* name, const std::string& text) { std::ofstream(dir / name) << text; };
  SECTION("missing lists") {
    std::vector<risk::lexicon_problem> ps;
    CHECK_FALSE(risk::lexicon::load(dir, &ps).ok());
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].text() == (dir / "negative.txt").string() + ":0:0: missing (negative.txt and positive.txt are required)");
  }
  SECTION("every problem with its position") {
    write("negative.txt", "差\n坏 透了\n好\n");
    write("positive.txt", "# comment\n好\n满\xff意\n");
    write("degree.txt", "非常 2\n很\n太 x\n有点 0\n");
    std::vector<risk::lexicon_problem> ps;
    auto lex = risk::lexicon::load(dir, &ps);
    REQUIRE_FALSE(lex.ok());
    std::vector<std::string> texts;
    for (const auto& p : ps) texts.push_back(p.text().substr(dir.string().size() + 1));
    CHECK(texts == std::vector<std::string>{
                       "negative.txt:2:2: a word may not contain spaces (one word a line)",
                       "positive.txt:2:1: 「好」 is already listed at " + (dir / "negative.txt").string() + ":3 (a word belongs to one list)",
                       "positive.txt:3:2: invalid UTF-8",
                       "degree.txt:2:2: expected a weight after the word (\"word weight\")",
                       "degree.txt:3:3: weight 「x」 is not a number",
                       "degree.txt:4:4: weight 0 is out of (0, 10]",
                   });
    CHECK(lex.error_message().find("negative.txt:2:2: ") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("mailbox pressure follows cases by message time", "[risk]") {
  risk::options o;
  o.deadline = [](const std::string&, int64_t received) { return received + day; };
  risk::engine e(o, nullptr, jiangmen());
  std::vector<msg> ms;
  for (int i = 0; i < 4; ++i) {
    msg m;
    m.key = "mailbox/m" + std::to_string(i), m.id = "m" + std::to_string(i), m.kind = "mailbox";
    m.topic = "roads", m.channel = "mailbox", m.region = "江海区", m.text = "路面塌陷", m.time_ms = t0 + i * hour;
    ms.push_back(m);
  }
  msg reply;
  reply.key = "replies/m0", reply.id = "m0", reply.kind = "mailbox-reply", reply.channel = "replies";
  reply.time_ms = t0 + 5 * hour;
  ms.push_back(reply);
  std::shuffle(ms.begin(), ms.end(), std::mt19937(7));
  for (const auto& m : ms) e.observe(batch_of({m}));
  auto at = [&](int64_t t) { return e.at(t, {"roads", "江海区"}).at(0).fig; };
  CHECK(at(t0 + 4 * hour).mailbox_open == 4);
  CHECK(at(t0 + 6 * hour).mailbox_open == 3);  // m0 answered at 05:00
  const auto late = at(t0 + day + 4 * hour);
  CHECK(late.mailbox_open == 0);
  CHECK(late.mailbox_overdue == 3);
  CHECK(late.mailbox_recent == 4);
}

TEST_CASE("a snapshot gives the value now, the previous period's and the peak", "[risk]") {
  risk::engine e(risk::options{}, nullptr, jiangmen());
  e.observe(batch_of(synthetic_stream()));
  const auto s = e.snapshot_of(t0 + 7 * day, t0 + 8 * day, {"wave", ""});
  REQUIRE(s.rows.size() == 9);  // 全市, seven districts, 未知
  CHECK(s.rows[0].now.region == risk::all_regions);
  CHECK(s.rows.back().now.region == risk::unplaced);
  REQUIRE(s.rows[0].previous);
  CHECK(s.rows[0].previous->lvl == risk::level::low);
  CHECK(s.rows[0].peak_level == risk::level::high);
  CHECK(s.rows[0].peak_ms == t0 + 7 * day + 11 * hour);  // the first window all of the wave
  CHECK(s.to_json().find("\"trend_arrow\":\"→\"") != std::string::npos);
}

TEST_CASE("a policy's reaction curve from its publication on", "[risk]") {
  char tmpl[] = "/tmp/yuqing-risk-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  manual_clock clk(t0 + 3 * day);
  {
    storage::store_options so;
    so.path = dir / "db", so.clk = &clk;
    auto st = storage::store::open(so);
    REQUIRE(st.ok());
    std::vector<msg> ms;
    const std::vector<std::string> texts = {"户籍迁移新政办理很方便", "户籍迁移新政办理很方便", "落户窗口推诿，不满意",
                                            "户籍迁移新政办理很方便", "今天天气晴", "落户新规出台前的消息"};
    const std::vector<int64_t> times = {t0 + hour, t0 + day + hour, t0 + day + 2 * hour, t0 + 2 * day, t0 + day, t0 - 9 * hour};
    for (size_t i = 0; i < texts.size(); ++i) {
      msg m;
      m.key = "posts/" + std::to_string(i), m.channel = "posts", m.text = texts[i], m.time_ms = times[i];
      ms.push_back(m);
    }
    REQUIRE((*st)->write(batch_of(ms)).ok());
    auto lex = risk::lexicon::load(YUQING_SOURCE_DIR "/tests/data/risk-lexicon");
    REQUIRE(lex.ok());
    auto p = risk::policy::from_json(
        R"({"id": "hukou", "name": "户籍迁移新政", "published": "2026-11-01", "keywords": ["户籍迁移", "落户"]})", 480);
    REQUIRE(p.ok());
    CHECK(p->published_ms == t0 - 8 * hour);
    std::map<std::string, uint64_t> ids;
    auto by_text = [&](const std::string&, const std::string& text, int64_t) {
      return ids.emplace(text, ids.size() + 1).first->second;
    };
    auto c = risk::follow(**st, *p, lex->get(), t0 + 3 * day, 480, by_text, 5);
    REQUIRE(c.ok());
    CHECK(c->messages == 4);
    CHECK(c->negative == 1);
    CHECK(c->positive == 3);
    REQUIRE(c->days.size() == 4);  // 11-01 to 11-04 (local time), the last one begun
    CHECK(c->days[0].messages == 1);
    CHECK(c->days[1].messages == 2);
    CHECK(c->days[2].messages == 1);
    CHECK(c->days[3].messages == 0);
    CHECK(risk::local_time(c->days[1].day_ms, 480) == "2026-11-02T00:00:00+08:00");
    REQUIRE(c->clusters.size() == 2);
    CHECK(c->clusters[0].size == 3);
    CHECK(c->clusters[0].first_key == "posts/0");
  }
  SECTION("bad registrations name the field") {
    CHECK(risk::policy::from_json(R"({"id": "A B", "name": "x", "published": "2026-11-01", "keywords": ["x"]})")
              .error_message() == "id: expected 1 to 64 of [a-z0-9_-]");
    CHECK(risk::policy::from_json(R"({"id": "a", "name": "x", "published": "yesterday", "keywords": ["x"]})")
              .error_message() == "published: expected YYYY-MM-DD or RFC 3339");
    CHECK(risk::policy::from_json(R"({"id": "a", "name": "x", "published": "2026-11-01", "keywords": []})")
              .error_message() == "keywords: expected 1 to 100 strings");
  }
  SECTION("API policies are kept, configuration ones cannot be replaced") {
    risk::policy cfg;
    cfg.id = "cfg", cfg.name = "配置中的政策", cfg.keywords = {"x"};
    {
      risk::policy_book book(dir / "policies.json");
      REQUIRE(book.load({cfg}).ok());
      auto p = risk::policy::from_json(R"({"id": "api1", "name": "新政", "published": "2026-11-01T09:30:00+08:00", "keywords": ["新政"]})");
      REQUIRE(p.ok());
      REQUIRE(book.register_policy(*p).ok());
      auto again = *p;
      again.id = "cfg";
      CHECK(book.register_policy(again).error_message() == "id: cfg is a policy of the configuration");
    }
    risk::policy_book reread(dir / "policies.json");
    REQUIRE(reread.load({cfg}).ok());
    REQUIRE(reread.list().size() == 2);
    CHECK(reread.get("api1")->published_ms == t0 + 90 * minute);
    CHECK(reread.get("api1")->origin == "api");
  }
  fs::remove_all(dir);
}
