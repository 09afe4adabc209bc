// The warnings of the set checks (matchers/set_checks.h) and regex errors at a line and
// column of the set file.
#include <catch2/catch.hpp>

#include "matchers/matcher.h"
#include "matchers/set_checks.h"

using namespace yuqing::matchers;

namespace {

std::vector<std::string> warnings_of(const std::string& yaml) {
  auto r = parse_keyword_set(yaml, "w.yaml");
  INFO(r.to_text());
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics)
    if (d.warning) out.push_back(d.to_text());
  return out;
}

std::string errors_of(const std::string& yaml) {
  auto r = parse_keyword_set(yaml, "w.yaml");
  REQUIRE_FALSE(r.ok());
  return r.to_text();
}

// `yaml` has one warning, starting with `text`, and `clean` none.
void one_warning(const std::string& yaml, const std::string& text, const std::string& clean) {
  const auto w = warnings_of(yaml);
  REQUIRE(w.size() == 1);
  CHECK(w[0].starts_with(text));
  CHECK(warnings_of(clean).empty());
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("check: a one-character CJK keyword is a warning at its position") {
  one_warning("id: w\nrules:\n  - id: r\n    any: [疫情, 疫]\n",
              "w.yaml:4:19: warning: [rule r] keyword '疫' is one CJK character",
              "id: w\nrules:\n  - {id: r, any: [疫情], none: [疫]}\n");
}

TEST_CASE("check: a single Latin letter, and a short Latin word without whole words, are warnings") {
  CHECK(has(warnings_of("id: w\nrules:\n  - {id: r, any: [x, abc]}\n"),
            "w.yaml:3:19: warning: [rule r] keyword 'x' is a single Latin letter"));
  CHECK_FALSE(has(warnings_of("id: w\nrules:\n  - {id: r, any: [abc]}\n"), "abc"));
  CHECK(has(warnings_of("id: w\nwhole_words: false\nrules:\n  - {id: r, all: [[abc], [疫情]]}\n"),
            "w.yaml:4:20: warning: [rule r] keyword 'abc' is a short Latin word matched without word boundaries"));
  CHECK_FALSE(has(warnings_of("id: w\nwhole_words: false\nrules:\n  - {id: r, any: [abcd]}\n"), "abcd"));
}

TEST_CASE("check: a word both in any and in none is a warning, after normalization") {
  one_warning("id: w\nrules:\n  - id: r\n    any: [疫情, 确诊]\n    none: [疫 情]\n",
              "w.yaml:5:12: warning: [rule r] keyword '疫 情' is both a keyword of the rule and in its none",
              "id: w\nrules:\n  - id: r\n    any: [疫情, 确诊]\n    none: [演练]\n");
}

TEST_CASE("check: a keyword the allow list always covers is a warning") {
  one_warning("id: w\nallow: [防疫演练]\nrules:\n  - {id: r, any: [疫情, 防疫演练]}\n",
              "w.yaml:4:27: warning: [rule r] keyword '防疫演练' is also an allow phrase",
              "id: w\nallow: [防疫演练]\nrules:\n  - {id: r, any: [防疫]}\n");
}

TEST_CASE("check: warnings leave the set loadable") {
  auto r = parse_keyword_set("id: w\nrules:\n  - {id: r, any: [疫]}\n", "w.yaml");
  CHECK(r.ok());
  CHECK(r.error_count() == 0);
  CHECK(r.to_json().find("\"warnings\":[{") != std::string::npos);
}

TEST_CASE("check: a regex error is placed at its line and column in the file") {
  // Plain scalar: the unclosed group opens at index 0 of the regex, column 12.
  CHECK(errors_of("id: w\nrules:\n  - id: r\n    regex: (聚集|围堵.{0,10}派出所\n")
            .find("w.yaml:4:12: error: [rule r] regex: Missing close parenthesis for group started at index 0") !=
        std::string::npos);
  // Single-quoted, with a doubled quote before the error: '' is one character of the value.
  const auto quoted = errors_of("id: w\nrules:\n  - id: r\n    regex: 'it''s(?<x'\n");
  CHECK(quoted.find("w.yaml:4:18: error: [rule r] regex: Unrecognised character after (? at index 4. "
                    "(character '(' of the regex)") != std::string::npos);
  // Double-quoted, with an escape before the error.
  CHECK(errors_of("id: w\nrules:\n  - id: r\n    regex: \"a\\tb[\"\n")
            .find("w.yaml:4:17: error: [rule r] regex: Unterminated character class") != std::string::npos);
  // Block scalar: the error on its second line.
  const auto block = errors_of("id: w\nrules:\n  - id: r\n    regex: |-\n      (?x) 疫情\n      ab\\\n");
  INFO(block);
  CHECK(block.find("w.yaml:6:9: error: [rule r] regex:") != std::string::npos);
}

TEST_CASE("check: scalar_byte_position maps value bytes back to the file") {
  const std::string y = "a: \"x\\ty\"\nb: 'p''q'\nc: plain\n";
  CHECK(scalar_byte_position(y, {1, 4}, 2) == source_pos{1, 8});  // y, after the escape \t
  CHECK(scalar_byte_position(y, {2, 4}, 2) == source_pos{2, 8});  // q, after ''
  CHECK(scalar_byte_position(y, {3, 4}, 3) == source_pos{3, 7});
}
