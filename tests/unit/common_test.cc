#include <catch2/catch.hpp>

#include "common/logging.h"
#include "common/diagnostic.h"
#include "common/time.h"
#include "common/utf8.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::common;

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

TEST_CASE("a secret and every long fragment of it are redacted", "[logging][hostile]") {
  using yuqing::common::redact;
  const std::vector<std::string> secrets = {"correct-horse-battery-staple", "pw1"};
  CHECK(redact("token=correct-horse-battery-staple end", secrets) == "token=*** end");
  CHECK(redact("cut: \"correct-horse-batt\" and \"battery-staple\"", secrets) ==
        "cut: \"***\" and \"***\"");
  CHECK(redact("short: pw1, pw12", secrets) == "short: ***, ***2");
  CHECK(redact("correct horse", secrets) == "correct horse");  // no 8 bytes of it in a row
  CHECK(redact("nothing here", {}) == "nothing here");
}

TEST_CASE("log lines as JSON keep every key=value, quoted values whole", "[logging]") {
  const auto j = nlohmann::json::parse(yuqing::common::kv_line_to_json(
      R"(event=batch_failed messages=12 error="rocksdb /x: IO error: No space left" stray)",
      "2026-11-28T00:00:00.000Z", "error"));
  CHECK(j["time"] == "2026-11-28T00:00:00.000Z");
  CHECK(j["level"] == "error");
  CHECK(j["event"] == "batch_failed");
  CHECK(j["messages"] == "12");
  CHECK(j["error"] == "rocksdb /x: IO error: No space left");
  CHECK(j["msg"] == "stray");
  const auto k = nlohmann::json::parse(yuqing::common::kv_line_to_json(
      R"(event=kafka_log message="say "hi" twice" x=1)", "t", "warn"));
  CHECK(k["message"] == R"(say "hi" twice)");
  CHECK(k["x"] == "1");
}

TEST_CASE("UTF-8 is read strictly, durations as set files write them, diagnostics as compilers do", "[common]") {
  uint32_t cp = 0;
  CHECK(decode_utf8("疫", 0, cp) == 3);
  CHECK(cp == 0x75AB);
  std::string out;
  append_utf8(out, 0x1F600);
  CHECK(decode_utf8(out, 0, cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(is_valid_utf8("江门 ok"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xE7\x96"));          // cut short

  CHECK(parse_duration("90s") == 90000);
  CHECK(parse_duration("10m") == 600000);
  CHECK(parse_duration("7d") == 7 * 86400000LL);
  for (const char* bad : {"", "m", "0s", "10x", "-5m", "1.5h", "1234567890s"}) CHECK_FALSE(parse_duration(bad));

  const std::vector<diagnostic> d = {{"a.yaml", {5, 31}, "", "window: a duration", false},
                                     {"a.yaml", {}, "r1", "never matches", true}};
  CHECK(d[0].to_text() == "a.yaml:5:31: error: window: a duration");
  CHECK(d[1].to_text() == "a.yaml: warning: [rule r1] never matches");
  CHECK(error_count(d) == 1);
  CHECK(parse_severity("critical") == severity::critical);
  CHECK_FALSE(parse_severity("urgent"));
  CHECK(std::string(to_string(severity::info)) == "info");
}
