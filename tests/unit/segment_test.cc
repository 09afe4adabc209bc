#include <catch2/catch.hpp>

#include <iostream>

#include "segment/dictionary.h"
#include "segment/friso_segmenter.h"
#include "segment/segmenter.h"
#include "tests/support/boundary_labels.h"

using namespace yuqing::segment;
using yuqing::testing::format;
using yuqing::testing::keywords_of;
using yuqing::testing::read_labelled;
using yuqing::testing::score;

namespace {

std::shared_ptr<const dictionary> jieba() {
  std::string why;
  auto d = dictionary::shared(&why);
  INFO(why);
  REQUIRE(d);
  return d;
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : "/") + w;
  return s;
}

const std::string labelled_file = std::string(YUQING_SOURCE_DIR) + "/tests/data/boundary_labelled.tsv";

}  // namespace

TEST_CASE("segment: jieba's dictionary loads with its words and prefixes") {
  auto d = jieba();
  CHECK(d->word_count() > 300000);
  CHECK(d->find("江门").value_or(0) > 0);
  CHECK(d->find("中华人民共和").value_or(1) == 0);  // a prefix of 中华人民共和国, no word
  CHECK_FALSE(d->find("江门下大雨"));
  auto missing = dictionary::load("/nonexistent/dict.txt");
  REQUIRE_FALSE(missing);
  CHECK(missing.error_message().find("/nonexistent/dict.txt") != std::string::npos);
}

TEST_CASE("segment: the DAG segmenter cuts by maximum probability") {
  dag_segmenter seg(jieba());
  CHECK(joined(seg.cut("请登录浙江门户网站")) == "请/登录/浙江/门户网站");
  CHECK(joined(seg.cut("明天召开新会议")) == "明天/召开/新/会议");
  CHECK(joined(seg.cut("GDP增长5%，iPhone15发布")) == "GDP/增长/5/%/，/iPhone15/发布");
  // Invalid UTF-8 is cut at every bad byte, never read past the end.
  std::vector<uint32_t> b;
  seg.boundaries(std::string("江\xE9\x97", 5), b);
  CHECK(b == std::vector<uint32_t>{0, 3, 4, 5});
}

TEST_CASE("segment: a keyword added to the dictionary keeps its hit in 今天江门下大雨") {
  const std::string text = "今天江门下大雨";
  const uint32_t b = 6, e = 12;  // 江门
  dag_segmenter plain(jieba());
  CHECK(joined(plain.cut(text)) == "今天/江/门下/大雨");
  CHECK(align(plain, text, b, e) == alignment::cut);
  dag_segmenter with_keywords(jieba(), {"江门"});
  CHECK(joined(with_keywords.cut(text)) == "今天/江门/下/大雨");
  CHECK(align(with_keywords, text, b, e) == alignment::word);
  // ... while a split into more frequent words still cuts it.
  CHECK(joined(with_keywords.cut("请登录浙江门户网站")) == "请/登录/浙江/门户网站");
  CHECK(align(with_keywords, "请登录浙江门户网站", 12, 18) == alignment::cut);
  // A keyword inside a compound of dictionary words stays a word: 江门 / 市.
  CHECK(align(with_keywords, "江门市公安局", 0, 6) == alignment::word);
  CHECK(align(with_keywords, "本市新会议室", 6, 12) == alignment::cut);
}

TEST_CASE("segment: align looks at a window around the stretch only") {
  dag_segmenter seg(jieba(), {"江门"});
  std::string text;
  for (int i = 0; i < 200; ++i) text += "新会议";
  const uint32_t at = static_cast<uint32_t>(text.size());
  text += "江门市";
  CHECK(align(seg, text, at, at + 6) == alignment::word);
  CHECK(align(seg, text, 0, 6) == alignment::cut);  // 新会 of 新/会议 at the very start
  CHECK(align(seg, text, 3, 3) == alignment::unknown);
}

TEST_CASE("segment: the labelled set, precision and recall with boundary off, as score and as filter") {
  const auto set = read_labelled(labelled_file);
  REQUIRE(set.size() >= 300);
  const auto keywords = keywords_of(set);
  dag_segmenter dag(jieba(), keywords);
  const auto d = score(dag, set);
  std::cout << "labelled set: " << set.size() << " sentences, " << keywords.size() << " keywords\n"
            << format("jieba-dag + keywords", d) << "\n";
  dag_segmenter bare(jieba());
  std::cout << format("jieba-dag, no keywords", score(bare, set)) << "\n";
  friso_segmenter friso(keywords);
  const auto f = score(friso, set);
  std::cout << format("friso + keywords", f) << "\n";
  for (const auto& m : d.misses) std::cout << "  jieba-dag filter mistake: " << m << "\n";
  // Both segmenters must beat no boundary at all, and the filter must not lose most of
  // the true mentions; the chosen one (jieba-dag) must do at least as well as friso.
  CHECK(d.filter.precision() > d.off.precision());
  CHECK(f.filter.precision() > f.off.precision());
  CHECK(d.filter.recall() > 0.9);
  CHECK(d.word_marked_precision > d.cut_marked_precision);
  std::cout << "friso on 今天江门下大雨 with 江门 added: "
            << to_string(align(friso, "今天江门下大雨", 6, 12)) << "\n";
}

TEST_CASE("segment: friso reads Debian's configuration and finds word boundaries") {
  friso_segmenter friso;
  std::vector<uint32_t> b;
  friso.boundaries("请登录浙江门户网站", b);
  CHECK(std::find(b.begin(), b.end(), 9u) != b.end());  // 浙江 | 门户
  CHECK(std::find(b.begin(), b.end(), 12u) == b.end());  // not 江 | 门
  CHECK_THROWS(friso_segmenter({}, "/nonexistent/friso.ini"));
}
