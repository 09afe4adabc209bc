#include <catch2/catch.hpp>

#include "daemon/decoder.h"
#include "daemon/kafka.h"
#include "daemon/logging.h"
#include "daemon/notifier.h"
#include "daemon/pipeline.h"
#include "daemon/probe.h"
#include "tests/support/temp_dir.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::daemon;

TEST_CASE("RFC 3339 times", "[decoder]") {
  int64_t ms = 0;
  REQUIRE(parse_rfc3339("2022-11-21T08:00:00+08:00", ms));
  CHECK(ms == 1668988800000);
  REQUIRE(parse_rfc3339("2022-11-21T00:00:00.250Z", ms));
  CHECK(ms == 1668988800250);
  CHECK(format_rfc3339(1668988800250) == "2022-11-21T00:00:00.250Z");
  CHECK(!parse_rfc3339("2022-11-21", ms));
  CHECK(!parse_rfc3339("2022-11-21T08:00:00", ms));
  CHECK(!parse_rfc3339("2022-13-21T08:00:00Z", ms));
}

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

TEST_CASE("a rejected Kafka property is named but its value is not quoted", "[kafka]") {
  auto conf = make_kafka_conf("127.0.0.1:9", {{"security.protocol", "not-a-protocol-s3cr3t"}});
  REQUIRE(!conf.ok());
  CHECK(conf.error_message().find("security.protocol") != std::string::npos);
  CHECK(conf.error_message().find("s3cr3t") == std::string::npos);
}

TEST_CASE("a rejected Kafka property quotes no piece of a long value", "[kafka][hostile]") {
  // librdkafka cuts its message short, so the value is never there whole.
  std::string secret;
  for (int i = 0; secret.size() < 700; ++i) secret += "Zq" + std::to_string(i * 7919) + "x";
  auto conf = make_kafka_conf("127.0.0.1:9", {{"security.protocol", secret}});
  REQUIRE(!conf.ok());
  const auto& why = conf.error_message();
  CHECK(why.find("security.protocol") != std::string::npos);
  for (size_t i = 0; i + yuqing::daemon::min_secret_fragment <= secret.size(); ++i)
    REQUIRE(why.find(secret.substr(i, yuqing::daemon::min_secret_fragment)) == std::string::npos);
}

TEST_CASE("a secret and every long fragment of it are redacted", "[logging][hostile]") {
  using yuqing::daemon::redact;
  const std::vector<std::string> secrets = {"correct-horse-battery-staple", "pw1"};
  CHECK(redact("token=correct-horse-battery-staple end", secrets) == "token=*** end");
  CHECK(redact("cut: \"correct-horse-batt\" and \"battery-staple\"", secrets) ==
        "cut: \"***\" and \"***\"");
  CHECK(redact("short: pw1, pw12", secrets) == "short: ***, ***2");
  CHECK(redact("correct horse", secrets) == "correct horse");  // no 8 bytes of it in a row
  CHECK(redact("nothing here", {}) == "nothing here");
}

TEST_CASE("log lines as JSON keep every key=value, quoted values whole", "[logging]") {
  const auto j = nlohmann::json::parse(yuqing::daemon::kv_line_to_json(
      R"(event=batch_failed messages=12 error="rocksdb /x: IO error: No space left" stray)",
      "2026-11-28T00:00:00.000Z", "error"));
  CHECK(j["time"] == "2026-11-28T00:00:00.000Z");
  CHECK(j["level"] == "error");
  CHECK(j["event"] == "batch_failed");
  CHECK(j["messages"] == "12");
  CHECK(j["error"] == "rocksdb /x: IO error: No space left");
  CHECK(j["msg"] == "stray");
  const auto k = nlohmann::json::parse(yuqing::daemon::kv_line_to_json(
      R"(event=kafka_log message="say "hi" twice" x=1)", "t", "warn"));
  CHECK(k["message"] == R"(say "hi" twice)");
  CHECK(k["x"] == "1");
}

TEST_CASE("end-to-end latencies of a batch land in the histogram's buckets as one by one", "[probe]") {
  metrics m;
  ingest_probe p(m, {});
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

TEST_CASE("the store's sizes by column family and its file system's room are exposed", "[probe][storage]") {
  const testing::temp_dir tmp;
  const std::filesystem::path& dir = tmp.path;
  {
    auto s = storage::store::open({dir, false, false});
    REQUIRE(s.ok());
    metrics m;
    m.add_collector([&] { return storage_families((*s)->statistics()); });

    storage::batch b;
    for (int i = 0; i < 100; ++i) {
      storage::hit_record h;
      h.topic = "epidemic";
      h.time_ms = 1000 + i;
      h.message_key = "t/" + std::to_string(i);
      h.set_id = "s";
      h.rule_id = "r";
      b.hits.push_back(h);
    }
    REQUIRE((*s)->write(b).ok());
    auto sample = [&](const std::string& text, const std::string& series) {
      const auto at = text.find("\n" + series + " ");
      REQUIRE(at != std::string::npos);
      return std::stod(text.substr(at + series.size() + 2));
    };
    // Before a flush the hits are in the memtable; after it, in an SST file.
    std::string text = m.expose();
    CHECK(sample(text, "yuqing_storage_memtable_bytes{column_family=\"hits\"}") > 0);
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"hits\"}") == 0);
    REQUIRE((*s)->flush().ok());
    text = m.expose();
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"hits\"}") > 0);
    CHECK(sample(text, "yuqing_storage_keys{column_family=\"hits\"}") == 100);
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"messages\"}") == 0);
    CHECK(sample(text, "yuqing_storage_pending_compaction_bytes{column_family=\"mailbox\"}") == 0);
    const double avail = sample(text, "yuqing_storage_filesystem_avail_bytes");
    CHECK(avail > 0);
    CHECK(avail <= sample(text, "yuqing_storage_filesystem_size_bytes"));
    // The families come once per scrape, after the registry's and the process's.
    CHECK(text.find("# TYPE yuqing_storage_keys gauge") == text.rfind("# TYPE yuqing_storage_keys gauge"));
    CHECK(text.find("process_open_fds") < text.find("yuqing_storage_keys"));
  }
}

TEST_CASE("a message stamped after the clock by more than the skew is kept and reported", "[pipeline]") {
  config::daemon_config cfg;
  cfg.channels.push_back({"posts", "yuqing.posts", config::channel_kind::post, config::channel_format::json, {}});
  cfg.max_clock_skew_seconds = 300;
  batch_builder b(cfg);
  int64_t now = 0;
  REQUIRE(parse_rfc3339("2026-12-02T09:00:00+08:00", now));
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

TEST_CASE("Alertmanager: open alerts fire whatever their condition, acknowledged ones end then, each alert its own labels, the unit directory",
          "[notifier]") {
  alerting::alert a;
  a.id = "al-1";
  a.kind = "immediate";
  a.level = matchers::alert_level::red;
  a.lead_units = {"宣传科"};
  a.fired_ms = 1000;
  a.condition = alerting::alert_condition::cleared;
  alerting::alert b = a;
  b.id = "al-2";
  b.state = alerting::alert_state::acknowledged;
  b.acknowledged_ms = 5000;
  b.audit.push_back({5000, "acknowledged", "张三（防控办）", ""});
  const unit_directory units = {{"宣传科", {"市委宣传部", "publicity"}}};
  const auto body = nlohmann::json::parse(notifier::alertmanager_body({a, b}, 10000, 60, "", units));
  REQUIRE(body.size() == 2);
  CHECK(body[0]["labels"]["alert_id"] == "al-1");
  CHECK(body[1]["labels"]["alert_id"] == "al-2");
  CHECK(body[0]["labels"]["unit"] == "市委宣传部");
  CHECK(body[0]["labels"]["receiver"] == "publicity");
  CHECK(body[0]["endsAt"] == format_rfc3339(10000 + 4 * 60000));  // open, condition cleared: firing
  CHECK(body[1]["endsAt"] == format_rfc3339(5000));               // acknowledged: ended then
  CHECK(body[1]["annotations"]["acknowledged_by"] == "张三（防控办）");
  const auto plain = nlohmann::json::parse(notifier::alertmanager_body({a}, 10000, 60, ""));
  CHECK(plain[0]["labels"]["unit"] == "宣传科");
  CHECK(plain[0]["labels"]["receiver"] == "none");
}
