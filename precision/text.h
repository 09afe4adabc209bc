// text: the little UTF-8 work of suggestions and hit listings: code points with their byte
// offsets, "word" characters (letters, digits, CJK), words near a match, excerpts.
// Invalid bytes decode as U+FFFD of one byte (never a word character). Plain functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yuqing::precision {

struct code_point {
  uint32_t c = 0;
  uint32_t begin = 0, end = 0;  // bytes
};
std::vector<code_point> decode_utf8(std::string_view s);
size_t utf8_length(std::string_view s);

bool cjk_cp(uint32_t c);   // a CJK ideograph
bool word_cp(uint32_t c);  // a letter, a digit or a CJK ideograph (not punctuation, space)

// The code points [first, last) that cover bytes [begin, end).
std::pair<size_t, size_t> cp_range(const std::vector<code_point>& cps, uint32_t begin, uint32_t end);

// The words of code points [first, last) of `text`: every two and three CJK characters in a
// row, and each Latin or digit run of two or more; none holding a code point marked in
// `skip` (one flag per code point; empty: none marked).
std::vector<std::string> words_in(std::string_view text, const std::vector<code_point>& cps, size_t first,
                                  size_t last, const std::vector<bool>& skip = {});

// Bytes [begin, end) of `text` in 【】 with up to `context` characters on each side ("…" where cut).
std::string excerpt(std::string_view text, uint32_t begin, uint32_t end, size_t context);

}  // namespace yuqing::precision
