// boundary: the word-boundary post-step on the hits of a compiled set (issue 23, item 3).
//
// After a set's rule logic has made its hits (compiled_set::match_batch), each hit of a rule
// whose `boundary` is not `off` is checked against Chinese word boundaries: every span is
// aligned with segment::align() (a window of 6 characters on either side is segmented,
// not the whole message) and the hit is marked
//   word  when the rule is still satisfied by its spans that align with words (every `all`
//         group and `any` keeps an aligned occurrence; a regex span counts for the regex),
//   cut   otherwise (今天浙江门户网站上线 for 江门: 浙江 / 门户网站).
// A rule with `boundary: word` drops its `cut` hits, and from the hits it keeps the spans
// that cut a word; `boundary: score` (the default) only marks them.
//
// The segmenter is segment::dag_segmenter over the process-wide jieba dictionary
// (segment::dictionary::shared()), extended with the set's own keywords as written and
// normalized (any, all, none, allow): built once per compiled set, when the keyword sets
// put it in force (sets/keyword_sets.cc, on their thread), else on its first match
// (the dictionary itself once per process: about half a second). Without a dictionary the
// hits stay `unknown` and nothing is dropped.
//
// Limitations: `within` is not checked again on the aligned spans alone; `none` words
// suppress a rule whether or not they cut a word; spans are of the original text, so text
// the dictionary does not know (traditional characters, spaced-out keywords) tends to
// fall apart into single characters, whose edges all align: such hits are kept.
//
// Thread safety: boundary_index is immutable once built; compiled_set builds it under a
// std::once_flag.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "matchers/keyword_set.h"
#include "segment/segmenter.h"

namespace yuqing::matchers {

struct boundary_index {
  std::unique_ptr<const segment::dag_segmenter> segmenter;  // null: no dictionary
  struct rule_info {
    boundary_mode mode = boundary_mode::score;
    uint64_t required = 0;  // bit 0: any, bit g+1: all group g, then the regex
    int regex_part = -1;
  };
  std::vector<rule_info> rules;
  std::unordered_map<std::string_view, uint32_t> rule_by_id;
  // A normalized literal -> (rule, part) for every rule using it in any or all.
  std::unordered_map<std::string, std::vector<std::pair<uint32_t, int>>> parts;
  bool active = false;  // some rule is not `off` and there is a segmenter
};

}  // namespace yuqing::matchers
