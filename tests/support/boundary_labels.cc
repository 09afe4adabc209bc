#include "tests/support/boundary_labels.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>

namespace yuqing::testing {

std::vector<labelled> read_labelled(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot open");
  std::vector<labelled> out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos)
      throw std::runtime_error(file + ":" + std::to_string(n) + ": expected keyword, label, sentence");
    labelled l;
    l.keyword = line.substr(0, t1);
    l.relevant = line.substr(t1 + 1, t2 - t1 - 1) == "1";
    l.sentence = line.substr(t2 + 1);
    const size_t at = l.sentence.find(l.keyword);
    if (at == std::string::npos)
      throw std::runtime_error(file + ":" + std::to_string(n) + ": the keyword is not in the sentence");
    l.begin = static_cast<uint32_t>(at);
    l.end = static_cast<uint32_t>(at + l.keyword.size());
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::string> keywords_of(const std::vector<labelled>& set) {
  std::set<std::string> k;
  for (const auto& l : set) k.insert(l.keyword);
  return {k.begin(), k.end()};
}

boundary_scores score(const segment::segmenter& seg, const std::vector<labelled>& set) {
  boundary_scores s;
  std::vector<std::pair<int, bool>> ranked;  // (0 word / 1 cut, relevant)
  size_t word_hits = 0, word_true = 0, cut_hits = 0, cut_true = 0;
  for (const auto& l : set) {
    const bool aligned = segment::align(seg, l.sentence, l.begin, l.end) == segment::alignment::word;
    (l.relevant ? s.off.tp : s.off.fp)++;
    if (aligned) (l.relevant ? s.filter.tp : s.filter.fp)++;
    else (l.relevant ? s.filter.fn : s.filter.tn)++;
    (aligned ? word_hits : cut_hits)++;
    if (l.relevant) (aligned ? word_true : cut_true)++;
    if (aligned != l.relevant)
      s.misses.push_back(l.keyword + " " + (l.relevant ? "1 " : "0 ") + l.sentence);
    ranked.emplace_back(aligned ? 0 : 1, l.relevant);
  }
  s.word_marked_precision = word_hits ? double(word_true) / double(word_hits) : 0;
  s.cut_marked_precision = cut_hits ? double(cut_true) / double(cut_hits) : 0;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  double sum = 0;
  size_t seen_true = 0;
  for (size_t k = 0; k < ranked.size(); ++k) {
    if (!ranked[k].second) continue;
    ++seen_true;
    sum += double(seen_true) / double(k + 1);
  }
  s.average_precision = seen_true ? sum / double(seen_true) : 0;
  return s;
}

std::string format(const char* name, const boundary_scores& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%-22s off: P %.3f R %.3f | score: P %.3f R %.3f (marked word %.3f true, marked "
                "cut %.3f true, AP %.3f) | filter: P %.3f R %.3f (tp %zu fp %zu fn %zu tn %zu)",
                name, s.off.precision(), s.off.recall(), s.off.precision(), s.off.recall(),
                s.word_marked_precision, s.cut_marked_precision, s.average_precision,
                s.filter.precision(), s.filter.recall(), s.filter.tp, s.filter.fp, s.filter.fn,
                s.filter.tn);
  return buf;
}

}  // namespace yuqing::testing
