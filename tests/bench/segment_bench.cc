// Word-boundary benchmark (issue 23, item 3). In one run, on one core:
//   matcher      compiled_set::match_batch (batches of 1000, default normalization) on the
//                corpus with the 1k keyword list, its rule `boundary: off` (the baseline:
//                no boundary step), `score` (every hit marked) and `word` (cut hits
//                dropped); MB/s, hits, and the ratio to the baseline (median over the
//                rounds of the ratio within a round; best run for the rates)
//   segmenters   jieba-dag (yuqing's) and friso over the same messages whole, and over
//                the labelled sentences; dictionary load times; align() per hit window
//
// Usage: segment_bench DATA_DIR [--repeat N] [--labelled FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "matchers/matcher.h"
#include "segment/dictionary.h"
#include "segment/friso_segmenter.h"
#include "segment/segmenter.h"
#include "tests/support/boundary_labels.h"

using namespace yuqing;
using steady = std::chrono::steady_clock;

namespace {

double since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

std::vector<std::string> lines_of(const std::string& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::string set_yaml(const std::vector<std::string>& words, const char* mode) {
  std::string y = std::string("id: bench\nrules:\n  - id: words\n    boundary: ") + mode + "\n    any:\n";
  for (const auto& w : words) y += "      - \"" + w + "\"\n";
  return y;
}

struct pass {
  double seconds = 0;
  size_t hits = 0, word = 0;
};

pass match_all(const matchers::compiled_set& set, const std::vector<std::string_view>& msgs) {
  std::vector<matchers::hit> out;
  std::vector<size_t> ends;
  std::vector<size_t> begin;
  pass p;
  const auto t = steady::now();
  for (size_t m0 = 0; m0 < msgs.size(); m0 += 1000) {
    const size_t n = std::min<size_t>(1000, msgs.size() - m0);
    begin.resize(n + 1);
    for (size_t i = 0; i <= n; ++i) begin[i] = i;
    out.clear();
    ends.clear();
    set.match_batch(std::span(msgs).subspan(m0, n), begin, out, ends);
    p.hits += out.size();
    for (const auto& h : out) p.word += h.boundary == segment::alignment::word;
  }
  p.seconds = since(t);
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void bench_matcher(const std::vector<std::string_view>& msgs, double mb,
                   const std::vector<std::string>& words, int repeat) {
  const char* modes[] = {"off", "score", "word"};
  std::vector<std::shared_ptr<const matchers::compiled_set>> sets;
  for (const char* m : modes) {
    auto parsed = matchers::parse_keyword_set(set_yaml(words, m), "bench.yaml");
    auto c = matchers::compiled_set::compile(*parsed.set);
    if (!c.ok()) {
      std::fprintf(stderr, "%s", c.to_text().c_str());
      std::exit(1);
    }
    sets.push_back(c.set);
  }
  const auto t = steady::now();
  match_all(*sets[1], {msgs.begin(), msgs.begin() + std::min<size_t>(msgs.size(), 10)});
  std::printf("first match with boundaries (jieba dictionary loaded, set's segmenter built): %.2f s\n", since(t));
  std::vector<pass> best(3);
  std::vector<std::vector<double>> ratios(3);
  for (int r = 0; r < repeat; ++r) {
    pass round[3];
    for (int k = 0; k < 3; ++k) {
      round[k] = match_all(*sets[k], msgs);
      if (r == 0 || round[k].seconds < best[k].seconds) best[k] = round[k];
    }
    for (int k = 0; k < 3; ++k) ratios[k].push_back(round[0].seconds / round[k].seconds);
  }
  for (int k = 0; k < 3; ++k)
    std::printf("matcher, boundary %-5s %7.1f MB/s  %8zu hits (%zu marked word)  %.2fx the baseline (off)\n",
                modes[k], mb / best[k].seconds, best[k].hits, best[k].word, median(ratios[k]));
}

void bench_segmenter(const segment::segmenter& seg, const std::vector<std::string_view>& msgs,
                     double mb, const std::vector<testing::labelled>& labelled, int repeat) {
  std::vector<uint32_t> b;
  double whole = 1e9, windows = 1e9;
  size_t words = 0;
  for (int r = 0; r < repeat; ++r) {
    auto t = steady::now();
    words = 0;
    for (const auto m : msgs) {
      seg.boundaries(m, b);
      words += b.size() - 1;
    }
    whole = std::min(whole, since(t));
    t = steady::now();
    for (int k = 0; k < 100; ++k)
      for (const auto& l : labelled) segment::align(seg, l.sentence, l.begin, l.end);
    windows = std::min(windows, since(t));
  }
  std::printf("%-10s whole messages %6.2f MB/s (%zu words)   align() %6.2f us per hit window\n",
              seg.name(), mb / whole, words, windows / (100.0 * double(labelled.size())) * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--repeat N] [--labelled FILE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int repeat = 3;
  std::string labelled_file = std::string(YUQING_SOURCE_DIR) + "/tests/data/boundary_labelled.tsv";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--repeat") repeat = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--labelled") labelled_file = argv[i + 1];
  }
  const auto corpus = lines_of(dir + "/corpus.txt");
  const auto words = lines_of(dir + "/words-1k.txt");
  std::vector<std::string_view> msgs(corpus.begin(), corpus.end());
  double bytes = 0;
  for (const auto m : msgs) bytes += double(m.size());
  const double mb = bytes / 1e6;
  std::printf("corpus: %zu messages, %.1f MB; %zu keywords; %d rounds, one thread\n", msgs.size(), mb,
              words.size(), repeat);
  bench_matcher(msgs, mb, words, repeat);

  const auto labelled = testing::read_labelled(labelled_file);
  const auto keywords = testing::keywords_of(labelled);
  auto t = steady::now();
  auto dict = segment::dictionary::load(segment::jieba_dictionary_path);
  if (!dict) {
    std::fprintf(stderr, "%s\n", dict.error_message().c_str());
    return 1;
  }
  std::printf("jieba dictionary loaded in %.2f s (%zu words)\n", since(t), (*dict)->word_count());
  segment::dag_segmenter dag(*dict, keywords);
  t = steady::now();
  segment::friso_segmenter friso(keywords);
  std::printf("friso loaded in %.2f s\n", since(t));
  // A tenth of the corpus for whole-message segmentation (friso is the slower one).
  std::vector<std::string_view> part(msgs.begin(), msgs.begin() + std::min<size_t>(msgs.size(), msgs.size() / 10 + 1));
  double part_mb = 0;
  for (const auto m : part) part_mb += double(m.size()) / 1e6;
  bench_segmenter(dag, part, part_mb, labelled, repeat);
  bench_segmenter(friso, part, part_mb, labelled, repeat);
  return 0;
}
