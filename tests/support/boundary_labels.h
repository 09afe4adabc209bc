// The labelled boundary set (tests/data/boundary_labelled.tsv) and its scoring, shared by
// the segment test and the segment benchmark.
#pragma once

#include <string>
#include <vector>

#include "segment/segmenter.h"

namespace yuqing::testing {

struct labelled {
  std::string keyword, sentence;
  bool relevant = false;  // a true mention
  uint32_t begin = 0, end = 0;  // the first occurrence of the keyword, in bytes
};

// Throws std::runtime_error when the file cannot be read or a line is malformed.
std::vector<labelled> read_labelled(const std::string& file);
std::vector<std::string> keywords_of(const std::vector<labelled>& set);

struct confusion {
  size_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0; }
};

struct boundary_scores {
  confusion off;     // every occurrence a hit
  confusion filter;  // only occurrences aligned with words are hits
  // As a score: every occurrence stays a hit (off's precision and recall), marked word or
  // cut; the share of true mentions among the marked-word and the marked-cut hits, and the
  // average precision of the hits ranked by the mark (word first, ties in file order).
  double word_marked_precision = 0, cut_marked_precision = 0, average_precision = 0;
  std::vector<std::string> misses;  // filter mistakes, "keyword label sentence"
};

boundary_scores score(const segment::segmenter& seg, const std::vector<labelled>& set);
std::string format(const char* name, const boundary_scores& s);

}  // namespace yuqing::testing
