// The word-boundary post-step on hits (matchers/boundary.h) and the `boundary` rule option.
#include <catch2/catch.hpp>

#include "matchers/matcher.h"

using namespace yuqing::matchers;
using yuqing::segment::alignment;

namespace {

// The set of `yaml` (a parse error throws bad_optional_access: the test fails).
std::shared_ptr<const compiled_set> set_of(const std::string& yaml) {
  auto c = compiled_set::compile(parse_keyword_set(yaml, "b.yaml").set.value());
  REQUIRE(c.ok());
  return c.set;
}

std::vector<hit> hits_of(const compiled_set& set, const std::string& text) {
  std::vector<hit> out;
  set.match({text}, out);
  return out;
}

std::string texts(const hit& h, const std::string& text) {
  std::string s;
  for (const auto& sp : h.spans) s += (s.empty() ? "" : "|") + text.substr(sp.begin, sp.end - sp.begin);
  return s;
}

}  // namespace

TEST_CASE("boundary: hits are marked word or cut by default, and all are kept") {
  auto set = set_of("id: b\nrules:\n  - {id: place, any: [江门]}\n");
  auto cut = hits_of(*set, "请登录浙江门户网站查询");
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].boundary == alignment::cut);
  auto word = hits_of(*set, "今天江门下大雨");
  REQUIRE(word.size() == 1);
  CHECK(word[0].boundary == alignment::word);
  auto compound = hits_of(*set, "江门市公安局发布通告");
  REQUIRE(compound.size() == 1);
  CHECK(compound[0].boundary == alignment::word);
}

TEST_CASE("boundary: word drops the hits that cut a word and the spans that do") {
  auto set = set_of("id: b\nrules:\n  - {id: place, any: [江门, 新会], boundary: word}\n");
  CHECK(hits_of(*set, "请登录浙江门户网站查询").empty());
  CHECK(hits_of(*set, "明天召开新会议").empty());
  const std::string both = "浙江门户网站报道：今天江门下大雨";
  auto h = hits_of(*set, both);
  REQUIRE(h.size() == 1);
  CHECK(texts(h[0], both) == "江门");
  CHECK(h[0].boundary == alignment::word);
}

TEST_CASE("boundary: word needs every all group to keep an aligned occurrence") {
  auto set = set_of(
      "id: b\nrules:\n  - {id: epi, any: [疫情], all: [[江门]], boundary: word}\n"
      "  - {id: epi-score, any: [疫情], all: [[江门]]}\n");
  const std::string text = "江门海关通报入境货物的检疫情况";  // 检疫 / 情况
  auto h = hits_of(*set, text);
  REQUIRE(h.size() == 1);
  CHECK(h[0].rule_id == "epi-score");
  CHECK(h[0].boundary == alignment::cut);
  auto ok = hits_of(*set, "江门疫情防控形势平稳");
  REQUIRE(ok.size() == 2);
  CHECK(ok[0].boundary == alignment::word);
  CHECK(ok[1].boundary == alignment::word);
}

TEST_CASE("boundary: off computes nothing, a bad value is an error with its position") {
  auto set = set_of("id: b\nrules:\n  - {id: place, any: [江门], boundary: off}\n");
  auto h = hits_of(*set, "请登录浙江门户网站查询");
  REQUIRE(h.size() == 1);
  CHECK(h[0].boundary == alignment::unknown);
  auto bad = parse_keyword_set("id: b\nrules:\n  - id: place\n    any: [江门]\n    boundary: maybe\n", "b.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.to_text().find("b.yaml:5:15: error: [rule place] boundary must be word, score or off") !=
        std::string::npos);
}

TEST_CASE("boundary: a batch keeps every message's hits apart when some are dropped") {
  auto set = set_of("id: b\nrules:\n  - {id: place, any: [江门], boundary: word}\n");
  const std::vector<std::string> texts_in = {"浙江门户网站", "江门市下雨", "浙江门窗厂", "今天江门下大雨"};
  std::vector<std::string_view> fields(texts_in.begin(), texts_in.end());
  const std::vector<size_t> begin = {0, 1, 2, 3, 4};
  std::vector<hit> out(1);  // something before: left alone
  std::vector<size_t> ends = {1};
  set->match_batch(fields, begin, out, ends);
  CHECK(ends == std::vector<size_t>{1, 1, 2, 2, 3});
  REQUIRE(out.size() == 3);
  CHECK(out[1].spans[0].begin == 0);
  CHECK(out[2].spans[0].begin == 6);
}
