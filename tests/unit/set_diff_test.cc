// The unified line diff of set versions, checked against GNU diff: the same output where
// the shortest script is unique, the same number of changed lines on random edits, and
// `patch` turns the one text into the other with it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "sets/set_diff.h"
#include "tests/support/process.h"

using yuqing::sets::unified_diff;
using yuqing::testing::shell;
using yuqing::testing::temp_dir;

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// GNU diff's hunks (its two header lines, which carry file times, left out).
std::string gnu_hunks(const temp_dir& dir, const std::string& a, const std::string& b) {
  write(dir.path / "a", a);
  write(dir.path / "b", b);
  const auto out = shell("cd " + dir.path.string() + " && diff --minimal -u a b | tail -n +3").second;
  return out;
}

std::string hunks(const std::string& unified) {
  const auto second = unified.find('\n', unified.find('\n') + 1);
  return second == std::string::npos ? "" : unified.substr(second + 1);
}

}  // namespace

TEST_CASE("set diff: the same hunks as GNU diff -u", "[unit][set_diff]") {
  temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\nb\nc\n", "a\nb\nc\n"},
      {"", "x\ny\n"},
      {"x\ny\n", ""},
      {"id: s\nrules:\n  - {id: A, any: [疫情]}\n", "id: s\nrules:\n  - {id: A, any: [疫情, 封城]}\n"},
      {"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n", "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\n11\n12\nY\n14\n15\n"},
      {"1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\nX\n4\n5\n6\n7\nY\n"},
      {"a\nb\n", "a\nb"},
      {"a\nb", "a\nc"},
  };
  for (const auto& [a, b] : cases) {
    INFO("from:\n" << a << "\nto:\n" << b);
    const auto d = unified_diff(a, b, "a", "b");
    CHECK(hunks(d.unified) == gnu_hunks(dir, a, b));
    if (a == b) CHECK(d.unified.empty());
  }
}

TEST_CASE("set diff: random edits are as short as GNU diff's and patch applies them", "[unit][set_diff]") {
  temp_dir dir;
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> lines;
    for (int i = 0; i < 60; ++i) lines.push_back("  - {id: R" + std::to_string(rng() % 12) + "}\n");
    std::string a, b;
    for (const auto& l : lines) a += l;
    for (const auto& l : lines) {
      const auto r = rng() % 10;
      if (r == 0) continue;                                     // deleted
      if (r == 1) b += "  - {id: N" + std::to_string(rng() % 5) + "}\n";  // inserted
      b += l;
    }
    const auto d = unified_diff(a, b, "a", "b");
    const auto gnu = gnu_hunks(dir, a, b);
    size_t gnu_changed = 0;
    for (size_t at = 0; at < gnu.size(); at = gnu.find('\n', at) + 1) {
      if ((gnu[at] == '+' || gnu[at] == '-')) ++gnu_changed;
      if (gnu.find('\n', at) == std::string::npos) break;
    }
    INFO("round " << round);
    CHECK(d.added + d.removed == gnu_changed);
    write(dir.path / "p", d.unified);
    write(dir.path / "t", a);
    REQUIRE(shell("patch -s " + (dir.path / "t").string() + " < " + (dir.path / "p").string()).first == 0);
    CHECK(read(dir.path / "t") == b);
  }
}

TEST_CASE("set diff: past max_edits the middle is replaced whole, still a correct diff", "[unit][set_diff]") {
  std::string a, b;
  for (int i = 0; i < 50; ++i) a += "a" + std::to_string(i) + "\n", b += "b" + std::to_string(i) + "\n";
  const auto d = unified_diff("same\n" + a + "end\n", "same\n" + b + "end\n", "a", "b", 3, 10);
  CHECK(d.removed == 50);
  CHECK(d.added == 50);
  CHECK(d.unified.find("@@ -1,52 +1,52 @@\n same\n-a0\n") != std::string::npos);
}
