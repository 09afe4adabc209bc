// batch_builder (ingest/pipeline.h): Kafka messages to one storage batch — the decoded
// messages, their hits, the offsets and the hit events — with a real compiled set.
#include <catch2/catch.hpp>

#include "ingest/decoder.h"
#include "ingest/pipeline.h"
#include "matchers/matcher.h"

using namespace yuqing;
using namespace yuqing::ingest;

namespace {

matchers::matcher epidemic_sets() {
  auto parsed = matchers::parse_keyword_set(
      "id: epidemic\ntopic: 疫情防控\nplan_item: 3\nrules:\n  - {id: outbreak, any: [疫情]}\n"
      "  - {id: lockdown, all: [[封控], [小区]]}\n",
      "epidemic.yaml");
  INFO(parsed.to_text());
  REQUIRE(parsed.ok());
  auto compiled = matchers::compiled_set::compile(*parsed.set);
  INFO(compiled.to_text());
  REQUIRE(compiled.ok());
  return matchers::matcher({compiled.set});
}

config::daemon_config two_channels() {
  config::daemon_config cfg;
  cfg.channels.push_back({"posts", "yuqing.posts", config::channel_kind::post, config::channel_format::json, {}});
  cfg.channels.push_back({"news", "yuqing.news", config::channel_kind::news, config::channel_format::text, {}});
  return cfg;
}

}  // namespace

TEST_CASE("batch_builder: messages, their hits and the next offsets of one batch", "[pipeline]") {
  const auto cfg = two_channels();
  batch_builder b(cfg);
  CHECK(b.channel_of("yuqing.news") == 1);
  CHECK(b.channel_of("yuqing.other") == -1);
  const auto sets = epidemic_sets();
  const std::string post = R"({"id":"p1","title":"通报","content":"江门疫情：某小区封控","author":"a1"})";
  const std::string quiet = R"({"id":"p2","content":"今天天气很好"})";
  const std::string broken = R"({"id":"p3","content":)";
  const std::vector<raw_message> raw = {{"yuqing.posts", 0, 10, 5000, post},
                                        {"yuqing.posts", 0, 11, 5000, quiet},
                                        {"yuqing.posts", 1, 7, 5000, broken},
                                        {"yuqing.other", 0, 3, 5000, post},
                                        {"yuqing.news", 2, 40, -1, "疫情通报"}};
  storage::batch out;
  std::vector<rejected_message> rejected;
  std::vector<double> latency;
  std::vector<alerting::hit_event> events;
  const int64_t now = 9000;
  const auto stats = b.build(raw, sets, now, out, rejected, &latency, &events);

  // The broken one is rejected with its reason; the unknown topic only moves its offset.
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].index == 2);
  CHECK(rejected[0].channel == 0);
  CHECK(rejected[0].reason == decode_error::invalid_json);
  REQUIRE(out.messages.size() == 3);
  CHECK(out.messages[0].key == "yuqing.posts/p1");
  CHECK(out.messages[0].author == "a1");
  CHECK(out.messages[1].key == "yuqing.posts/p2");
  CHECK(out.messages[2].channel == "news");
  CHECK(out.messages[2].time_ms == now);  // no time field, no Kafka timestamp: now
  CHECK(latency == std::vector<double>{4.0, 4.0, 0.0});

  // p1 hits both rules, the news item the first; the spans are the original text.
  REQUIRE(out.hits.size() == 3);
  CHECK(out.hits[0].message_key == "yuqing.posts/p1");
  CHECK(out.hits[0].rule_id == "outbreak");
  CHECK(out.hits[0].topic == "疫情防控");
  CHECK(out.hits[0].plan_item == 3);
  REQUIRE(out.hits[0].spans.size() == 1);
  CHECK(out.hits[0].spans[0].field == "content");
  CHECK(out.hits[0].spans[0].text == "疫情");
  CHECK(out.hits[1].rule_id == "lockdown");
  REQUIRE(out.hits[1].spans.size() == 2);
  CHECK(out.hits[1].spans[0].text == "小区");
  CHECK(out.hits[1].spans[1].text == "封控");
  CHECK(out.hits[2].message_key.rfind("yuqing.news@2:40", 0) == 0);
  CHECK(out.hits[2].channel == "news");
  size_t text_bytes = 0;
  for (const auto& m : out.messages)
    for (const auto& [name, text] : m.text) text_bytes += text.size();
  CHECK(text_bytes > 0);
  CHECK(stats.bytes_scanned == text_bytes);

  // One event per matched message and set, its rules highlighted.
  REQUIRE(events.size() == 2);
  CHECK(events[0].message_key == "yuqing.posts/p1");
  REQUIRE(events[0].rules.size() == 2);
  CHECK(events[0].rules[0].excerpt.find("【疫情】") != std::string::npos);
  CHECK(events[1].rules.size() == 1);

  // Every partition seen moves to the offset after its last message, rejected or not.
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto& o : out.offsets) next[{o.topic, o.partition}] = o.next_offset;
  CHECK(next == std::map<std::pair<std::string, int32_t>, int64_t>{{{"yuqing.posts", 0}, 12},
                                                                   {{"yuqing.posts", 1}, 8},
                                                                   {{"yuqing.other", 0}, 4},
                                                                   {{"yuqing.news", 2}, 41}});
}

TEST_CASE("batch_builder: a repeated id is a replay, a duplicate or an edit", "[pipeline]") {
  const auto cfg = two_channels();
  batch_builder b(cfg);
  std::map<std::string, storage::message_record> stored;
  b.set_stored_lookup([&](const std::string& key) -> std::optional<storage::message_record> {
    auto it = stored.find(key);
    if (it == stored.end()) return std::nullopt;
    return it->second;
  });
  const auto sets = epidemic_sets();
  const std::string first = R"({"id":"x","content":"疫情一"})";
  const std::string edited = R"({"id":"x","content":"疫情二"})";
  storage::batch out;
  std::vector<rejected_message> rejected;
  auto stats = b.build({{"yuqing.posts", 0, 1, 1000, first}}, sets, 2000, out, rejected);
  REQUIRE(out.messages.size() == 1);
  CHECK(stats.repeats.empty());
  for (const auto& m : out.messages) stored[m.key] = m;

  // The same text at another position: a duplicate, counted and left out.
  storage::batch again;
  stats = b.build({{"yuqing.posts", 0, 2, 1000, first}}, sets, 2000, again, rejected);
  CHECK(again.messages.empty());
  CHECK(again.hits.empty());
  REQUIRE(stats.repeats.size() == 1);
  CHECK_FALSE(stats.repeats[0].edited);

  // Other text: an edit, kept beside the first version under its own key.
  storage::batch edit;
  stats = b.build({{"yuqing.posts", 0, 3, 1000, edited}}, sets, 2000, edit, rejected);
  REQUIRE(edit.messages.size() == 1);
  CHECK(edit.messages[0].key == "yuqing.posts/x~0:3");
  REQUIRE(stats.repeats.size() == 1);
  CHECK(stats.repeats[0].edited);
  CHECK(edit.hits.size() == 1);

  // The first position again (a restart that reads it twice): a replay, the same key,
  // nothing counted.
  batch_builder restarted(cfg);
  restarted.set_stored_lookup([&](const std::string& key) -> std::optional<storage::message_record> {
    auto it = stored.find(key);
    if (it == stored.end()) return std::nullopt;
    return it->second;
  });
  storage::batch replay;
  stats = restarted.build({{"yuqing.posts", 0, 1, 1000, first}}, sets, 2000, replay, rejected);
  REQUIRE(replay.messages.size() == 1);
  CHECK(replay.messages[0].key == "yuqing.posts/x");
  CHECK(stats.repeats.empty());
  CHECK(rejected.empty());
}
