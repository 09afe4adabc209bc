#include <catch2/catch.hpp>

#include "ingest/decoder.h"
#include "ingest/pipeline.h"
#include "ingest/probe.h"
#include "metrics/registry.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::ingest;

TEST_CASE("the decoder maps fields and names what is wrong", "[decoder]") {
  config::channel ch;
  ch.name = "posts";
  ch.topic = "yuqing.posts";
  decoder d(ch, 1024);
  storage::message_record m;
  const storage::kafka_position pos{"yuqing.posts", 2, 17};

  REQUIRE(d.decode(R"({"id":"p1","title":"标题","content":"正文","author":"a",
                       "published_at":"2022-11-21T08:00:00+08:00"})",
                   pos, 5, m) == decode_error::none);
  CHECK(m.key == "yuqing.posts/p1");
  CHECK(m.time_ms == 1668988800000);
  CHECK(m.author == "a");
  REQUIRE(m.text.size() == 2);
  CHECK(m.text[1] == std::pair<std::string, std::string>{"content", "正文"});

  REQUIRE(d.decode(R"({"content":"x","id":7})", pos, 5, m) == decode_error::none);
  CHECK(m.key == "yuqing.posts/7");
  CHECK(m.time_ms == 5);  // Kafka time when the message has none
  REQUIRE(d.decode(R"({"content":"x"})", pos, 5, m) == decode_error::none);
  CHECK(m.key == "yuqing.posts@2:17");

  CHECK(d.decode("", pos, 0, m) == decode_error::empty);
  CHECK(d.decode(std::string(2000, 'x'), pos, 0, m) == decode_error::oversize);
  CHECK(d.decode("{\"content\": \"x\"", pos, 0, m) == decode_error::invalid_json);
  CHECK(d.decode("[1,2]", pos, 0, m) == decode_error::invalid_json);
  CHECK(d.decode("{\"content\": \"\xff\xfe\"}", pos, 0, m) == decode_error::invalid_utf8);
  CHECK(d.decode(R"({"author":"a"})", pos, 0, m) == decode_error::missing_text);
}

TEST_CASE("a text field is a string or an array of strings, other types are wrong_type", "[decoder]") {
  config::channel ch;
  ch.name = "posts";
  decoder d(ch, 1 << 20);
  storage::message_record m;
  const storage::kafka_position pos{"t", 0, 1};
  REQUIRE(d.decode(R"({"id":"a","content":["江门","疫情"]})", pos, 0, m) == decode_error::none);
  REQUIRE(m.text.size() == 1);
  CHECK(m.text[0].second == "江门\n疫情");  // joined on a line break: no keyword spans two
  REQUIRE(d.decode(R"({"id":"a","title":"标题","content":null})", pos, 0, m) == decode_error::none);
  CHECK(m.text.size() == 1);  // null: absent
  REQUIRE(d.decode(R"({"id":"a","content":[]})", pos, 0, m) == decode_error::none);
  for (const char* bad : {R"({"content":42})", R"({"content":{"text":"疫情"}})", R"({"content":true})",
                          R"({"content":["疫情",1]})", R"({"content":[["疫情"]]})", R"({"title":"t","content":7})"}) {
    INFO(bad);
    CHECK(d.decode(bad, pos, 0, m) == decode_error::wrong_type);
  }
  CHECK(std::string(to_string(decode_error::wrong_type)) == "wrong_type");
}

TEST_CASE("nested field paths", "[decoder]") {
  config::channel ch;
  ch.name = "x";
  ch.fields.text = {"/post/body"};
  ch.fields.id = "/meta/id";
  decoder d(ch, 1024);
  storage::message_record m;
  REQUIRE(d.decode(R"({"post":{"body":"江门"},"meta":{"id":"a1"}})", {"t", 0, 0}, 0, m) ==
          decode_error::none);
  CHECK(m.key == "t/a1");
  CHECK(m.text[0].first == "post.body");
}

TEST_CASE("end-to-end latencies of a batch land in the histogram's buckets as one by one", "[probe]") {
  metrics::registry m;
  ingest::probe p(m, {});
  p.end_to_end({0.005, 0.05, 0.3, 100});
  p.end_to_end({});
  p.end_to_end({0.01});
  const std::string text = m.expose();
  auto sample = [&](const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + series.size() + 2));
  };
  const std::string h = "yuqing_ingest_end_to_end_seconds";
  CHECK(sample(h + "_bucket{le=\"0.01\"}") == 2);  // 0.005 and 0.01 (le: at most)
  CHECK(sample(h + "_bucket{le=\"0.05\"}") == 3);
  CHECK(sample(h + "_bucket{le=\"0.25\"}") == 3);
  CHECK(sample(h + "_bucket{le=\"0.5\"}") == 4);
  CHECK(sample(h + "_bucket{le=\"60\"}") == 4);
  CHECK(sample(h + "_bucket{le=\"+Inf\"}") == 5);
  CHECK(sample(h + "_count") == 5);
  CHECK(sample(h + "_sum") == Approx(100.365));
}

TEST_CASE("a message stamped after the clock by more than the skew is kept and reported", "[pipeline]") {
  config::daemon_config cfg;
  cfg.channels.push_back({"posts", "yuqing.posts", config::channel_kind::post, config::channel_format::json, {}});
  cfg.max_clock_skew_seconds = 300;
  batch_builder b(cfg);
  int64_t now = 0;
  REQUIRE(common::parse_rfc3339("2026-12-02T09:00:00+08:00", now));
  const std::string ok = R"({"id":"a","content":"x","published_at":"2026-12-02T09:04:00+08:00"})";
  const std::string future = R"({"id":"b","content":"x","published_at":"2026-12-04T09:00:00+08:00"})";
  std::vector<raw_message> raw = {{"yuqing.posts", 0, 0, -1, ok}, {"yuqing.posts", 0, 1, -1, future}};
  storage::batch out;
  std::vector<rejected_message> rejected;
  const auto stats = b.build(raw, matchers::matcher({}), now, out, rejected);
  CHECK(rejected.empty());
  REQUIRE(out.messages.size() == 2);  // kept, with its own time
  CHECK(out.messages[1].time_ms == now + 2 * 86400000);
  REQUIRE(stats.future.size() == 1);
  CHECK(stats.future[0] == std::pair<size_t, size_t>{0, 1});
}
