#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <thread>

#include "matchers/matcher.h"
#include "tests/support/process.h"

using namespace yuqing::matchers;

namespace {

std::shared_ptr<const compiled_set> compile(const std::string& yaml) {
  auto parsed = parse_keyword_set(yaml, "t.yaml");
  INFO(parsed.to_text());
  REQUIRE(parsed.ok());
  auto c = compiled_set::compile(*parsed.set);
  INFO(c.to_text());
  REQUIRE(c.ok());
  return c.set;
}

// "rule:matched text|matched text" for every hit, in order.
std::vector<std::string> run(const compiled_set& set, const std::string& text) {
  std::vector<hit> hits;
  set.match({text}, hits);
  std::vector<std::string> out;
  for (const auto& h : hits) {
    std::string s = std::string(h.rule_id) + ":";
    for (size_t i = 0; i < h.spans.size(); ++i)
      s += (i ? "|" : "") + text.substr(h.spans[i].begin, h.spans[i].end - h.spans[i].begin);
    out.push_back(s);
  }
  return out;
}

using v = std::vector<std::string>;

}  // namespace

TEST_CASE("literal sets match UTF-8 Chinese with exact spans", "[matchers]") {
  auto set = compile(R"(
id: t
rules:
  - id: r1
    any: [疫情, 封控]
)");
  CHECK(run(*set, "江门疫情通报") == v{"r1:疫情"});
  CHECK(run(*set, "疫情之后又封控") == v{"r1:疫情|封控"});
  CHECK(run(*set, "今天天气很好") == v{});
  std::vector<hit> hits;
  set->match({"江门疫情"}, hits);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].spans[0].begin == 6);
  CHECK(hits[0].spans[0].end == 12);
  CHECK(hits[0].set_id == "t");
  CHECK(hits[0].topic == "t");
  CHECK(hits[0].level == severity::warning);
}

TEST_CASE("a matcher clears for match() and appends for append_batch(), over every set", "[matchers]") {
  const matcher m({compile("id: a\nrules:\n  - {id: ra, any: [疫情]}\n"),
                   compile("id: b\nrules:\n  - {id: rb, any: [封控]}\n")});
  std::vector<hit> hits;
  m.match({"疫情和封控"}, hits);
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].set_id == "a");
  CHECK(hits[1].set_id == "b");
  const std::vector<std::string_view> second{"封控"};
  const std::vector<size_t> begin{0, 1};
  std::vector<size_t> ends;
  m.append_batch(second, begin, hits, ends);  // a second message's hits after the first's
  REQUIRE(hits.size() == 3);
  CHECK(ends == std::vector<size_t>{3});
  CHECK(hits[2].rule_id == "rb");
  CHECK(hits[2].spans[0].begin == 0);
  m.match({"封控"}, hits);
  CHECK(hits.size() == 1);
}

TEST_CASE("rule logic: all, none, within, allow", "[matchers]") {
  auto set = compile(R"(
id: logic
allow: [三黄片]
rules:
  - id: outbreak
    any: [疫情]
    all: [[江门, 蓬江]]
    none: [演练]
  - id: near
    any: [谣言]
    all: [公安]
    within: 6
  - id: porn
    any: [黄片]
)");
  CHECK(run(*set, "疫情") == v{});
  CHECK(run(*set, "蓬江区今天疫情") == v{"outbreak:蓬江|疫情"});
  CHECK(run(*set, "江门疫情防控演练") == v{});
  CHECK(run(*set, "公安说是谣言") == v{"near:公安|谣言"});
  CHECK(run(*set, "公安今天在广场上说这是谣言") == v{});
  CHECK(run(*set, "三黄片是中药") == v{});
  CHECK(run(*set, "传播黄片") == v{"porn:黄片"});
  CHECK(run(*set, "三黄片和黄片") == v{"porn:黄片"});
}

TEST_CASE("a shorter allow phrase inside the keyword suppresses nothing", "[matchers]") {
  auto set = compile("id: a\nallow: [片]\nrules:\n  - {id: r, any: [黄片]}\n");
  CHECK(run(*set, "黄片") == v{"r:黄片"});
}

TEST_CASE("normalization defeats common evasions", "[matchers]") {
  auto set = compile("id: n\nrules:\n  - {id: r, any: [疫情, fuk, yiqing]}\n");
  CHECK(run(*set, "疫 情") == v{"r:疫 情"});
  CHECK(run(*set, "疫*情") == v{"r:疫*情"});
  CHECK(run(*set, "疫\u200b情") == v{"r:疫\u200b情"});
  CHECK(run(*set, "江門疫情") == v{"r:疫情"});
  CHECK(run(*set, "ＹＩＱＩＮＧ") == v{"r:ＹＩＱＩＮＧ"});
  CHECK(run(*set, "Ⓕⓤ⒦") == v{"r:Ⓕⓤ⒦"});
  CHECK(run(*set, "疫苗情况") == v{});
  auto off = compile("id: n\nnormalize: []\nrules:\n  - {id: r, any: [疫情]}\n");
  CHECK(run(*off, "疫 情") == v{});
  CHECK(run(*off, "疫情") == v{"r:疫情"});
}

TEST_CASE("Latin keywords match whole words, CJK anywhere", "[matchers]") {
  auto set = compile("id: w\nrules:\n  - {id: r, any: [av]}\n");
  CHECK(run(*set, "have") == v{});
  CHECK(run(*set, "av is bad") == v{"r:av"});
  CHECK(run(*set, "测av试") == v{"r:av"});
}

TEST_CASE("regex rules match the normalized text", "[matchers]") {
  auto set = compile(R"(
id: re
rules:
  - id: gathering
    regex: '(聚集|围堵).{0,10}(派出所|政府)'
)");
  CHECK(run(*set, "有人在市政府门口聚集，围堵市政府") == v{"gathering:聚集，围堵市政府"});
  CHECK(run(*set, "聚集") == v{});
}

TEST_CASE("invalid UTF-8 input never crashes and never matches across the bad byte",
          "[matchers]") {
  auto set = compile("id: u\nnormalize: [width, case]\nrules:\n  - {id: r, any: [疫情]}\n");
  CHECK(run(*set, std::string("疫\xff情")) == v{});
  CHECK(run(*set, std::string("\xe7\x96疫情\xc3")) == v{"r:疫情"});
  CHECK(run(*set, std::string("\xff\xfe\xfd")) == v{});
}

TEST_CASE("the vector normalizer gives the scalar one's text and origins", "[matchers][normalizer]") {
  // Random texts of the pieces that take different paths: CJK kept, dropped (punctuation,
  // zero-width) and folded (traditional, full-width, circled), ASCII, two- and four-byte
  // code points, and invalid UTF-8 (stray bytes, truncated, overlong, surrogate).
  const std::vector<std::string> pieces = {
      "疫", "情", "中", "国", "人", "，", "。", "！", "、", "\u200b", "國", "們", "Ａ", "①", "五",
      "a", "B", "7", " ", "*", "é", "😀", "𠀀", "\xff", "\xe4", "\xe4\xb8", "\xe0\x80\x80",
      "\xed\xa0\x80", "\x80"};
  // Mostly kept CJK, as in real text, so that long runs form.
  std::mt19937 rng(20261128);
  auto piece = [&]() -> const std::string& {
    const auto r = rng() % 100;
    return r < 60 ? pieces[r % 5] : pieces[r % pieces.size()];
  };
  for (const uint32_t flags : {norm_default, 0u, uint32_t{norm_width}, uint32_t{norm_noise},
                               norm_default | norm_numerals, norm_default | norm_repeat}) {
    const normalizer vector(flags), scalar(flags, false);
    if (!vector.vectorized() && flags == norm_default)
      WARN("this CPU has no AVX-512 VBMI2: the vector path is not exercised here");
    INFO("flags " << flags << ", vector path " << (vector.vectorized() ? "on" : "unavailable"));
    normalized_text a, b;
    for (int round = 0; round < 3000; ++round) {
      std::string in;
      const size_t count = rng() % 120;
      for (size_t k = 0; k < count; ++k) in += piece();
      vector.normalize(in, a);
      scalar.normalize(in, b);
      INFO("input " << in);
      REQUIRE(a.text == b.text);
      // The maps differ in form (the vector path writes window segments) but not in what
      // they say: every output byte comes from the same input code point.
      for (size_t x = 0; x <= a.text.size(); ++x) REQUIRE(a.origin(x) == b.origin(x));
    }
  }
}

TEST_CASE("a batch of messages scanned together gives each message its own hits",
          "[matchers][batch]") {
  // Two sets (one normalized, one not, with every kind of rule) over random messages of one
  // to three fields, some long enough to fill a chunk on their own: the hits of the batch,
  // message by message, must be those of matching each message alone.
  auto normalized = compile(R"(
id: a
allow: [三黄片]
rules:
  - {id: any, any: [疫情, 黄片, av]}
  - {id: all, any: [江门], all: [[蓬江, 新会]], none: [演练]}
  - {id: near, any: [谣言], all: [公安], within: 6}
  - {id: re, regex: '聚集.{0,4}政府'}
)");
  auto plain = compile("id: b\nnormalize: []\nrules:\n  - {id: raw, any: [疫情, 政府]}\n");
  const matcher both({normalized, plain});
  const std::vector<std::string> pieces = {"疫情", "疫 情", "黄片", "三黄片", "江门", "蓬江", "演练", "谣言",
                                           "公安", "聚集", "政府", "av", "have", "AV", "，", " ", "\xff",
                                           "天气", "今天", "我们", "很好", "的", "。"};
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  std::vector<size_t> begin = {0};
  for (int m = 0; m < 400; ++m) {
    const size_t fields = 1 + rng() % 3;
    for (size_t f = 0; f < fields; ++f) {
      std::string s;
      const size_t count = m % 50 == 7 ? 12000 : rng() % 40;  // now and then over 32 KB
      for (size_t k = 0; k < count; ++k) s += pieces[rng() % pieces.size()];
      texts.push_back(s);
    }
    begin.push_back(texts.size());
  }
  const std::vector<std::string_view> fields(texts.begin(), texts.end());
  std::vector<hit> batch;
  std::vector<size_t> ends;
  both.append_batch(fields, begin, batch, ends);
  REQUIRE(ends.size() == begin.size() - 1);
  size_t with_hits = 0;
  for (size_t m = 0; m + 1 < begin.size(); ++m) {
    std::vector<hit> alone;
    both.match(std::vector<std::string_view>(fields.begin() + begin[m], fields.begin() + begin[m + 1]), alone);
    const size_t from = m == 0 ? 0 : ends[m - 1];
    INFO("message " << m);
    REQUIRE(ends[m] - from == alone.size());
    for (size_t h = 0; h < alone.size(); ++h) {
      CHECK(batch[from + h].set_id == alone[h].set_id);
      CHECK(batch[from + h].rule_id == alone[h].rule_id);
      CHECK(batch[from + h].spans == alone[h].spans);
    }
    with_hits += !alone.empty();
  }
  CHECK(with_hits > 100);  // the comparison is not between empty lists
}

TEST_CASE("broken sets are reported with file line column and rule", "[matchers]") {
  SECTION("YAML syntax") {
    auto r = parse_keyword_set("id: x\nrules: [\n", "bad.yaml");
    REQUIRE(!r.ok());
    CHECK(r.diagnostics[0].file == "bad.yaml");
    CHECK(r.diagnostics[0].pos.line >= 2);
  }
  SECTION("rule without keywords") {
    auto r = parse_keyword_set("id: x\nrules:\n  - id: empty\n    severity: info\n", "bad.yaml");
    REQUIRE(!r.ok());
    CHECK(r.diagnostics[0].to_text() == "bad.yaml:3:5: error: [rule empty] a rule needs any, all or regex");
  }
  SECTION("empty keyword") {
    auto r = parse_keyword_set("id: x\nrules:\n  - id: r\n    any: [a, '']\n", "bad.yaml");
    REQUIRE(!r.ok());
    CHECK(r.diagnostics[0].to_text() == "bad.yaml:4:14: error: [rule r] empty keyword");
  }
  SECTION("keyword that normalizes to nothing") {
    auto p = parse_keyword_set("id: x\nrules:\n  - id: r\n    any: ['***']\n", "bad.yaml");
    REQUIRE(p.ok());
    auto c = compiled_set::compile(*p.set);
    REQUIRE(!c.ok());
    CHECK(c.diagnostics[0].to_text() ==
          "bad.yaml:4:11: error: [rule r] keyword '***' is empty after normalization");
  }
  SECTION("regex Hyperscan refuses") {
    // Checked while parsing (the regex's syntax, at the character in the file), before any compile.
    auto p = parse_keyword_set("id: x\nrules:\n  - id: ok\n    any: [a]\n  - id: bad\n    regex: '(abc'\n", "bad.yaml");
    REQUIRE(!p.ok());
    auto error = std::find_if(p.diagnostics.begin(), p.diagnostics.end(),
                              [](const diagnostic& d) { return !d.warning; });
    REQUIRE(error != p.diagnostics.end());
    CHECK(error->pos.line == 6);
    CHECK(error->rule == "bad");
  }
  SECTION("unknown keys and JSON output") {
    auto r = parse_keyword_set("id: x\nrulez: []\nrules:\n  - {id: r, any: [a], severety: info}\n", "bad.yaml");
    REQUIRE(!r.ok());
    CHECK(r.error_count() == 2);
    CHECK(r.to_json().find(R"("message":"unknown set key 'rulez'")") != std::string::npos);
  }
}

TEST_CASE("the seed keyword sets all compile", "[matchers]") {
  auto d = load_directory(YUQING_SOURCE_DIR "/seeds/keyword-sets");
  INFO(d.to_text());
  CHECK(d.error_count() == 0);
  CHECK(d.sets->sets().size() == 6);
}

TEST_CASE("only regular files inside the set directory are read, anything else keeps no set and names the file",
          "[matchers][hostile]") {
  yuqing::testing::temp_dir dir;
  const auto sets = dir.path / "sets";
  std::filesystem::create_directories(sets / "..2026_data");
  const auto outside = dir.path / "shadow";
  std::ofstream(outside) << "id: leaked\nrules:\n  - {id: r, any: [root-pw-hunter2]}\n"
                         << "root:$6$s3cr3t-hash:19000:0:99999:7:::\n";
  std::ofstream(sets / "good.yaml") << "id: good\nrules:\n  - {id: r, any: [疫情]}\n";
  std::ofstream(sets / "..2026_data" / "inside.yaml") << "id: inside\nrules:\n  - {id: r, any: [江门]}\n";
  std::filesystem::create_symlink(outside, sets / "link.yaml");
  std::filesystem::create_directory(sets / "dir.yaml");
  std::filesystem::create_symlink(sets / "gone.txt", sets / "dangling.yaml");
  std::filesystem::create_symlink("..2026_data/inside.yaml", sets / "inside.yaml");
  std::filesystem::create_symlink("nowhere", sets / ".#good.yaml");  // an editor's lock

  auto d = load_directory(sets);
  const auto text = d.to_text();
  INFO(text);
  CHECK(d.sets->sets().size() == 2);  // good, and inside through its link
  CHECK(d.error_count() == 3);
  CHECK(text.find((sets / "link.yaml").string() + ": error: a link that leads out of") != std::string::npos);
  CHECK(text.find((sets / "dir.yaml").string() + ": error: not a regular file") != std::string::npos);
  CHECK(text.find((sets / "dangling.yaml").string() + ": error: a link that leads nowhere") != std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("s3cr3t") == std::string::npos);
  CHECK(text.find(".#good") == std::string::npos);
}

TEST_CASE("a diagnostic quotes at most the offending token", "[matchers][hostile]") {
  CHECK(quote_token("rulez") == "'rulez'");
  CHECK(quote_token("line one\nline two") == "'line one…'");
  CHECK(quote_token(std::string(100, 'x')) == "'" + std::string(64, 'x') + "…'");
  CHECK(quote_token("疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情") ==
        "'疫情疫情疫情疫情疫情疫情疫情疫情疫情疫情疫…'");  // 63 bytes: whole characters only
  auto r = parse_keyword_set("id: x\n" + std::string(200, 'k') + ": 1\nrules:\n  - {id: r, any: [a]}\n", "bad.yaml");
  REQUIRE(r.error_count() == 1);
  CHECK(r.diagnostics[0].message.size() < 100);
}

TEST_CASE("a compile past its time limit is stopped, names its rule and is remembered", "[matchers][hostile]") {
  // Hyperscan takes over a minute on this regex; the compile runs in a child that is killed.
  const std::string yaml =
      "id: slow\nrules:\n  - {id: fast, regex: '江门.{0,5}疫情'}\n  - id: slow\n"
      "    regex: '.{0,5000}疫情.{0,5000}江门'\n";
  auto p = parse_keyword_set(yaml, "slow.yaml");
  REQUIRE(p.ok());
  compile_options o;
  o.time_limit_ms = 500;
  o.failures = std::make_shared<compile_failures>();
  auto c = compiled_set::compile(*p.set, o);
  INFO(c.to_text());
  REQUIRE(!c.ok());
  CHECK_FALSE(c.remembered);
  REQUIRE(c.diagnostics.size() == 1);
  CHECK(c.diagnostics[0].rule == "slow");
  CHECK(c.diagnostics[0].pos.line == 5);
  CHECK(c.diagnostics[0].message.find("time limit of 500 ms") != std::string::npos);

  auto again = compiled_set::compile(*p.set, o);
  REQUIRE(!again.ok());
  CHECK(again.remembered);
  CHECK(again.diagnostics[0].rule == "slow");

  SECTION("a set within the limit compiles in the child and matches as usual") {
    auto ok = parse_keyword_set("id: ok\nrules:\n  - {id: a, any: [疫情]}\n  - {id: b, regex: '江门.{0,5}封城'}\n", "ok.yaml");
    REQUIRE(ok.ok());
    o.time_limit_ms = 60000;
    auto built = compiled_set::compile(*ok.set, o);
    INFO(built.to_text());
    REQUIRE(built.ok());
    CHECK(run(*built.set, "江门今日封城，疫情") == std::vector<std::string>{"a:疫情", "b:江门今日封城"});
  }
  SECTION("a regex Hyperscan refuses, in the child, is named as on the calling thread") {
    auto bad = parse_keyword_set("id: b\nrules:\n  - {id: ok, any: [a]}\n  - {id: bad, regex: '(a|b)*c.{300}d'}\n", "b.yaml");
    REQUIRE(bad.ok());
    auto refused = compiled_set::compile(*bad.set, o);
    REQUIRE(!refused.ok());
    CHECK(refused.diagnostics[0].rule == "bad");
    CHECK(refused.diagnostics[0].message.starts_with("Hyperscan: "));
  }
}

TEST_CASE("matching is safe from several threads", "[matchers]") {
  auto set = compile("id: t\nrules:\n  - {id: r, any: [疫情, 江门]}\n");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<hit> hits;
      for (int i = 0; i < 2000; ++i) {
        hits.clear();
        set->match({"江门的疫情"}, hits);
        if (hits.size() != 1 || hits[0].spans.size() != 2) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}

TEST_CASE("evasion table: each normalization option on and off", "[matchers][evasion]") {
  struct evasion {
    const char* normalize;  // the set's normalize list
    const char* keyword;
    const char* text;
    bool hit;
  };
  const evasion cases[] = {
      // noise: spaces, punctuation, symbols, emoji, zero-width, marks
      {"[noise]", "疫情", "疫 情", true},
      {"[]", "疫情", "疫 情", false},
      {"[noise]", "疫情", "疫*情", true},
      {"[]", "疫情", "疫*情", false},
      {"[noise]", "疫情", "疫\u200b情", true},
      {"[]", "疫情", "疫\u200b情", false},
      {"[noise]", "疫情", "疫😷情", true},
      {"[]", "疫情", "疫😷情", false},
      {"[noise]", "疫情", "疫，。情", true},
      {"[noise]", "疫情", "疫\u0336情", true},
      {"[noise]", "疫情", "疫\t\n情", true},
      {"[noise]", "疫情", "疫苗情况", false},
      {"[noise]", "封控", "封-控", true},
      {"[noise]", "fuk", "f.u.k", true},
      {"[]", "fuk", "f.u.k", false},
      // width: full-width, circled and enclosed forms (NFKC)
      {"[width, case]", "yiqing", "ＹＩＱＩＮＧ", true},
      {"[case]", "yiqing", "ＹＩＱＩＮＧ", false},
      {"[width, case, noise]", "fuk", "Ⓕⓤ⒦", true},
      {"[case]", "fuk", "Ⓕⓤ⒦", false},
      {"[width]", "110", "①①⓪", true},
      {"[]", "110", "①①⓪", false},
      {"[width]", "abc", "ａｂｃ", true},
      {"[]", "abc", "ａｂｃ", false},
      {"[width, case]", "av", "𝐀𝐕 is bad", true},
      // case
      {"[case]", "falun", "FaLuN", true},
      {"[]", "falun", "FaLuN", false},
      // traditional -> simplified
      {"[t2s]", "疫情", "疫情", true},
      {"[t2s]", "江门", "江門", true},
      {"[]", "江门", "江門", false},
      {"[t2s]", "暴力执法", "暴力執法", true},
      {"[]", "暴力执法", "暴力執法", false},
      {"[t2s]", "谣言", "謠言", true},
      {"[t2s, noise]", "网传", "網 傳", true},
      // repeat (off by default)
      {"[repeat]", "assert", "asssert", true},
      {"[]", "assert", "asssert", false},
      {"[repeat, noise]", "疫情", "疫疫 情情", true},
      // numerals (off by default)
      {"[numerals]", "12345", "一二三四五", true},
      {"[]", "12345", "一二三四五", false},
      {"[numerals, t2s]", "555", "伍伍伍", true},
      {"[numerals]", "13800", "壹叁捌零零", true},
      {"[numerals, noise]", "qq12", "qq 一 二", true},
      // whole words for Latin keywords
      {"[case]", "av", "have", false},
      {"[case, noise]", "av", "av is bad", true},
      {"[case]", "av", "测av试", true},
      // everything at once
      {"[width, case, t2s, noise]", "江门疫情", "江 門*疫\u200b情", true},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string yaml = std::string("id: e\nnormalize: ") + c.normalize +
                             "\nrules:\n  - id: r\n    any: ['" + c.keyword + "']\n";
    auto set = compile(yaml);
    std::vector<hit> hits;
    set->match({c.text}, hits);
    INFO("case " << n << ": normalize " << c.normalize << ", keyword " << c.keyword << ", text "
                 << c.text);
    CHECK(hits.empty() != c.hit);
    if (c.hit && !hits.empty()) {
      // The span lies inside the original text and starts and ends on character boundaries.
      const auto& s = hits[0].spans[0];
      const std::string text = c.text;
      CHECK(s.end <= text.size());
      CHECK(s.begin < s.end);
      CHECK((static_cast<unsigned char>(text[s.begin]) & 0xC0) != 0x80);
      CHECK((s.end == text.size() || (static_cast<unsigned char>(text[s.end]) & 0xC0) != 0x80));
    }
    ++n;
  }
  CHECK(n >= 40);
}

TEST_CASE("compiled databases are cached and an unchanged set loads from the cache",
          "[matchers][cache]") {
  yuqing::testing::temp_dir dir;
  const auto cache = dir.path / "cache";
  const std::string yaml = R"(
id: c
rules:
  - {id: r1, any: [疫情, 封城]}
  - {id: r2, regex: "1[3-9][0-9]{9}"}
)";
  auto parsed = parse_keyword_set(yaml, "c.yaml");
  REQUIRE(parsed.ok());
  auto first = compiled_set::compile(*parsed.set, {cache});
  INFO(first.to_text());
  REQUIRE(first.ok());
  CHECK_FALSE(first.from_cache);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache)) files += e.path().extension() == ".hsdb";
  CHECK(files == 1);

  auto second = compiled_set::compile(*parsed.set, {cache});
  REQUIRE(second.ok());
  CHECK(second.from_cache);
  const std::string text = "听说封城了，电话13912345678";
  CHECK(run(*second.set, text) == run(*first.set, text));
  CHECK(run(*second.set, text) == v{"r1:封城", "r2:13912345678"});

  SECTION("a changed keyword compiles anew") {
    auto changed = parse_keyword_set(R"(
id: c
rules:
  - {id: r1, any: [疫情, 封控]}
  - {id: r2, regex: "1[3-9][0-9]{9}"}
)", "c.yaml");
    auto c = compiled_set::compile(*changed.set, {cache});
    REQUIRE(c.ok());
    CHECK_FALSE(c.from_cache);
    CHECK(run(*c.set, "封控") == v{"r1:封控"});
  }
  SECTION("a damaged entry is compiled again and rewritten") {
    for (const auto& e : std::filesystem::directory_iterator(cache)) {
      std::filesystem::resize_file(e.path(), std::filesystem::file_size(e.path()) / 2);
    }
    auto c = compiled_set::compile(*parsed.set, {cache});
    REQUIRE(c.ok());
    CHECK_FALSE(c.from_cache);
    CHECK(run(*c.set, text) == v{"r1:封城", "r2:13912345678"});
    CHECK(compiled_set::compile(*parsed.set, {cache}).from_cache);
  }
}

TEST_CASE("the alerts section is left to the section checks, which refuse the set as a parse error does",
          "[matchers][alerts]") {
  // The matcher reads no alert rule: an alerts section it cannot judge parses.
  const std::string text = "id: a\nrules:\n  - {id: r1, any: [疫情]}\nalerts:\n  - {kind: sometimes}\n";
  auto parsed = parse_keyword_set(text, "a.yaml");
  INFO(parsed.to_text());
  REQUIRE(parsed.ok());
  CHECK(compiled_set::compile(*parsed.set).ok());

  // With section checks (sets/checks.h passes the alert rules'), their error refuses the
  // set as a parse error does; they see the set as far as it was read, so that a file with
  // a keyword error too gets both at once; their warnings stay beside the set.
  std::vector<std::vector<std::string>> seen;
  section_check refuse = [&](const keyword_set& s) {
    std::vector<std::string> ids;
    for (const auto& r : s.rules) ids.push_back(r.id);
    seen.push_back(ids);
    return std::vector<diagnostic>{{s.file, {5, 5}, "", "unknown alert kind 'sometimes'", false}};
  };
  auto refused = parse_keyword_set(text, "a.yaml", refuse);
  CHECK_FALSE(refused.ok());
  CHECK(refused.to_text() == "a.yaml:5:5: error: unknown alert kind 'sometimes'\n");
  const std::string both = "id: a\nrules:\n  - {id: r1, anyy: [疫情]}\n  - {id: r2, any: [封城]}\nalerts:\n  - {kind: sometimes}\n";
  auto two = parse_keyword_set(both, "a.yaml", refuse);
  CHECK(two.error_count() == 3);  // anyy unknown, r1 has no part, the alert
  CHECK_THAT(two.to_text(), Catch::Contains("unknown alert kind"));
  CHECK(seen.back() == std::vector<std::string>{"r2"});
  // load() and load_directory() pass compile_options::section_checks to the parser.
  yuqing::testing::temp_dir dir;
  std::ofstream(dir.path / "a.yaml") << text;
  compile_options options;
  options.section_checks = refuse;
  CHECK_FALSE(compiled_set::load(dir.path / "a.yaml", options).ok());
  CHECK(load_directory(dir.path, options).error_count() == 1);

  section_check warn = [](const keyword_set& s) {
    return std::vector<diagnostic>{{s.file, {4, 1}, "", "a warning", true}};
  };
  auto warned = parse_keyword_set(text, "a.yaml", warn);
  CHECK(warned.ok());
  CHECK(warned.to_text() == "a.yaml:4:1: warning: a warning\n");
}
