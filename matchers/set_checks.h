// set_checks: the checks of a parsed keyword set beyond its schema, in the manner of
// `falco -V` (issue 23, item 5). Run by the parser on every set it reads (so by
// `yuqingctl check`, reloads and posted sets alike); they add to its diagnostics:
//
// warnings (the set still loads):
//   - a one-character CJK keyword in any/all (matches inside countless words)
//   - a single Latin letter, or a Latin word of at most 3 characters when the set has
//     `whole_words: false` (matches inside other words)
//   - a keyword of a rule both in its any (or an all group) and in its none (the rule can
//     never fire on it)
//   - a keyword equal to an allow phrase (after normalization: every occurrence lies inside
//     the allow phrase, so it never hits)
// errors:
//   - a regex Hyperscan refuses, placed at the line and column of the offending character
//     in the set file (Hyperscan reports a byte index into the expression; plain, single-
//     and double-quoted and block scalars are mapped back).
//
// Positions are 1-based; columns count bytes, as every diagnostic of the parser (yaml-cpp's
// marks). Thread safety: none needed (pure functions).
#pragma once

#include <string>
#include <vector>

#include "matchers/keyword_set.h"

namespace yuqing::matchers {

void check_set(const keyword_set& set, const std::string& yaml, const std::string& file,
               std::vector<diagnostic>& out);

// The position in `yaml` of byte `index` of the value of the scalar that starts at `at`
// (the scalar's own position, as yaml-cpp marks it). Exposed for tests.
source_pos scalar_byte_position(const std::string& yaml, source_pos at, size_t index);

}  // namespace yuqing::matchers
