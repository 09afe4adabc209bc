// Internal to risk/: stepping through UTF-8 text by code point (an invalid byte counts as
// one character), for the scanners of the lexicon, the gazetteer and the excerpts.
#pragma once

#include <string_view>
#include <vector>

#include "common/utf8.h"

namespace yuqing::risk::detail {

// The byte after the code point that starts at s[i].
inline size_t next_char(std::string_view s, size_t i) {
  uint32_t cp;
  const int len = common::decode_utf8(s, i, cp);
  return i + (len > 0 ? static_cast<size_t>(len) : 1);
}

// Byte offsets of every code point of `s`, then s.size().
inline std::vector<size_t> boundaries(std::string_view s) {
  std::vector<size_t> b;
  b.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); i = next_char(s, i)) b.push_back(i);
  b.push_back(s.size());
  return b;
}

// Characters in the first `bytes` bytes of `s`.
inline size_t chars(std::string_view s, size_t bytes = std::string_view::npos) {
  size_t n = 0;
  for (size_t i = 0; i < s.size() && i < bytes; i = next_char(s, i)) ++n;
  return n;
}

}  // namespace yuqing::risk::detail
