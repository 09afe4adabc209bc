#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "config/clock.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

using namespace yuqing::storage;
namespace fs = std::filesystem;

namespace {

using yuqing::testing::temp_dir;

constexpr int64_t day = 24 * 3600 * 1000;

// A store that keeps messages 7 days, on a manual clock.
struct retained_store {
  temp_dir dir;
  yuqing::manual_clock clk{1'000'000'000'000};
  yuqing::result<std::unique_ptr<store>> s = store::open({dir.path, false, false, 7 * day, &clk});
  retained_store() { REQUIRE(s.ok()); }
};

hit_record make_hit(const std::string& topic, int64_t t, const std::string& key,
                    const std::string& rule) {
  hit_record h;
  h.topic = topic;
  h.time_ms = t;
  h.message_key = key;
  h.set_id = "s";
  h.rule_id = rule;
  h.severity = "warning";
  h.spans.push_back({"content", 0, 6, "疫情"});
  return h;
}

}  // namespace

TEST_CASE("a batch stores hits, messages and offsets together", "[storage]") {
  temp_dir dir;
  {
    auto s = store::open({dir.path, true, false});
    REQUIRE(s.ok());
    batch b;
    b.hits = {make_hit("epidemic", 2000, "t/1", "r"), make_hit("epidemic", 1000, "t/2", "r"),
              make_hit("gov", 1500, "t/3", "r")};
    message_record m;
    m.key = "t/1";
    m.text = {{"content", "江门疫情"}};
    b.messages = {m};
    b.offsets = {{"t", 0, 42}, {"t", 1, 7}};
    REQUIRE((*s)->write(b).ok());

    auto all = (*s)->hits({});
    REQUIRE(all.ok());
    REQUIRE(all->size() == 3);
    hit_query q;
    q.topic = "epidemic";
    auto epidemic = (*s)->hits(q);
    REQUIRE(epidemic->size() == 2);
    CHECK((*epidemic)[0].message_key == "t/2");  // ordered by time
    CHECK((*epidemic)[1].message_key == "t/1");
    CHECK((*epidemic)[1].spans[0].text == "疫情");
    q.since_ms = 1500;
    CHECK((*s)->hits(q)->size() == 1);
    CHECK(**(*s)->next_offset("t", 0) == 42);
    CHECK(!(*s)->next_offset("t", 9)->has_value());
    CHECK((**(*s)->message("t/1")).text[0].second == "江门疫情");

    // A replay writes the same keys: no duplicates.
    REQUIRE((*s)->write(b).ok());
    CHECK((*s)->hits({})->size() == 3);
  }
  // Reopen (read-only, as yuqingctl does): everything is still there.
  auto r = store::open({dir.path, true, true});
  REQUIRE(r.ok());
  CHECK((*r)->hits({})->size() == 3);
  CHECK(**(*r)->next_offset("t", 1) == 7);
}

TEST_CASE("open refuses what it cannot read", "[storage]") {
  temp_dir dir;
  SECTION("read-only open of a directory that is no database") {
    auto r = store::open({dir.path / "nothing", true, true});
    CHECK(!r.ok());
  }
}

TEST_CASE("messages past retention are dropped by compaction, hits and offsets stay", "[storage]") {
  retained_store r;
  auto& clk = r.clk;
  auto& s = r.s;
  auto write_message = [&](const std::string& key) {
    batch b;
    message_record m;
    m.key = key;
    m.text = {{"content", "疫情"}};
    b.messages = {m};
    b.hits = {make_hit("epidemic", clk.now_ms(), key, "r")};
    b.offsets = {{"t", 0, 1}};
    REQUIRE((*s)->write(b).ok());
  };
  write_message("t/old");
  clk.advance_ms(3 * day);
  write_message("t/new");
  clk.advance_ms(5 * day);  // t/old is 8 days old, t/new 5
  REQUIRE((*s)->compact_messages().ok());
  CHECK(!(*s)->message("t/old")->has_value());
  CHECK((*s)->message("t/new")->has_value());
  CHECK((*s)->hits({})->size() == 2);
  CHECK(**(*s)->next_offset("t", 0) == 1);
}

TEST_CASE("records round-trip through their stored form, and a truncated one is refused", "[storage]") {
  hit_record h = make_hit("epidemic", -5, "t/9", "r");
  h.source = {"t", 3, 1234567890123};
  h.plan_item = 12;
  h.title = std::string("标题\0with nul", 14);
  const auto back = hit_record::decode(h.encode());
  REQUIRE(back);
  CHECK(back->time_ms == -5);
  CHECK(back->source.offset == 1234567890123);
  CHECK(back->title == h.title);
  CHECK(back->spans[0].text == "疫情");
  CHECK(back->to_json() == h.to_json());
  const auto bytes = h.encode();
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK(!hit_record::decode(bytes.substr(0, cut)));

  message_record m;
  m.key = "t/9";
  m.time_ms = 1668988800000;
  m.text = {{"title", "江门"}, {"content", "疫情"}};
  const auto mb = message_record::decode(m.encode());
  REQUIRE(mb);
  CHECK(mb->text == m.text);
  CHECK(mb->to_json() == m.to_json());
}

TEST_CASE("hits of one message: by seeking while it is retained, by scanning after", "[storage]") {
  retained_store r;
  auto& clk = r.clk;
  auto& s = r.s;
  batch b;
  for (const auto& [key, t] : std::vector<std::pair<std::string, int64_t>>{{"t/1", 1000}, {"t/2", 1000}, {"t/3", 2000}}) {
    message_record m;
    m.key = key;
    m.time_ms = t;
    b.messages.push_back(m);
    for (const char* topic : {"epidemic", "gov", "zz"}) b.hits.push_back(make_hit(topic, t, key, "r"));
  }
  b.hits.push_back(make_hit("gov", 1000, "t/1", "r2"));
  REQUIRE((*s)->write(b).ok());
  auto keys = [&](hit_query q) {
    std::multiset<std::string> out;
    const auto found = (*s)->hits(q);  // bound: the loop must not iterate a temporary
    REQUIRE(found.ok());
    for (const auto& h : *found) out.insert(h.topic + " " + h.message_key + " " + h.rule_id);
    return out;
  };
  hit_query q;
  q.message = "t/1";
  const std::multiset<std::string> expected = {"epidemic t/1 r", "gov t/1 r", "gov t/1 r2", "zz t/1 r"};
  CHECK(keys(q) == expected);
  q.topic = "gov";
  CHECK(keys(q) == std::multiset<std::string>{"gov t/1 r", "gov t/1 r2"});
  q.topic.clear();
  q.message = "t/none";
  CHECK(keys(q).empty());

  clk.advance_ms(8 * day);  // the message records go; the scan finds the same hits
  REQUIRE((*s)->compact_messages().ok());
  q.message = "t/1";
  REQUIRE(!(*s)->message("t/1")->has_value());
  CHECK(keys(q) == expected);
}

TEST_CASE("messages scan page by page and set versions are kept per set", "[storage]") {
  temp_dir dir;
  auto s = store::open({dir.path, true, false});
  REQUIRE(s.ok());
  batch b;
  for (int i = 0; i < 25; ++i) {
    message_record m;
    m.key = "t/" + std::to_string(100 + i);
    m.text = {{"content", "正文" + std::to_string(i)}};
    b.messages.push_back(m);
  }
  REQUIRE((*s)->write(b).ok());
  std::vector<std::string> keys;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = (*s)->scan_messages(after, 10);
    REQUIRE(page.ok());
    ++pages;
    for (const auto& m : page->messages) keys.push_back(m.key);
    if (page->done) break;
    after = page->last_key;
  }
  CHECK(pages == 3);
  REQUIRE(keys.size() == 25);
  CHECK(keys.front() == "t/100");
  CHECK(keys.back() == "t/124");

  for (int i = 0; i < 5; ++i) {
    set_version_record r;
    r.set_id = i < 3 ? "a" : "b";
    r.version = "v" + std::to_string(i);
    r.loaded_ms = 1000 * (10 - i);  // recorded out of time order
    r.trigger = "test";
    REQUIRE((*s)->record_set_version(r).ok());
  }
  auto a = (*s)->set_versions("a");
  REQUIRE(a.ok());
  REQUIRE(a->size() == 3);
  CHECK((*a)[0].version == "v2");  // oldest first
  CHECK((*a)[2].version == "v0");
  auto latest = (*s)->set_versions("", 1);
  REQUIRE(latest->size() == 2);
  CHECK((*latest)[0].version == "v0");
  CHECK((*latest)[1].version == "v3");
}

TEST_CASE("two set versions loaded in the same millisecond are both kept", "[storage]") {
  temp_dir dir;
  auto s = store::open({dir.path, true, false});
  REQUIRE(s.ok());
  for (const char* v : {"v1", "v2"}) {
    set_version_record r;
    r.set_id = "a";
    r.version = v;
    r.loaded_ms = 5000;
    REQUIRE((*s)->record_set_version(r).ok());
  }
  CHECK((*s)->set_versions("a")->size() == 2);
}

TEST_CASE("stored offsets are tied to the Kafka cluster they come from", "[storage]") {
  temp_dir dir;
  auto s = store::open({dir.path, false, false});
  REQUIRE(s.ok());
  batch b;
  b.offsets = {{"t", 0, 42}, {"u", 3, 7}};
  REQUIRE((*s)->write(b).ok());
  CHECK(!(*s)->kafka_cluster()->has_value());
  CHECK(*(*s)->bind_kafka_cluster("A") == false);  // offsets from before: kept, taken as A's
  CHECK(**(*s)->next_offset("t", 0) == 42);
  CHECK(*(*s)->bind_kafka_cluster("A") == false);  // the same cluster again
  CHECK(**(*s)->next_offset("u", 3) == 7);
  CHECK(*(*s)->bind_kafka_cluster("B") == true);  // another: its offsets start afresh
  CHECK(**(*s)->kafka_cluster() == "B");
  CHECK(!(*s)->next_offset("t", 0)->has_value());
  CHECK(!(*s)->next_offset("u", 3)->has_value());
  REQUIRE((*s)->write(b).ok());
  CHECK(*(*s)->bind_kafka_cluster("C", true) == true);  // a fresh cluster: nothing is its
  CHECK(!(*s)->next_offset("t", 0)->has_value());
}
