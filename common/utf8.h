// common/utf8: UTF-8 as every layer reads it (HTTP bodies, Kafka payloads, keyword files,
// message texts). Strict: overlong forms, surrogates and code points past U+10FFFF are
// invalid.
//
// Pure functions, any thread, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace yuqing::common {

// Decodes one code point at p[i] (n bytes in all); returns its length (1..4), or 0 when the
// bytes at i are not valid UTF-8 (then cp is unspecified). Inline: the normalizer's loop
// calls it per character.
[[gnu::always_inline]] inline int decode_utf8_at(const unsigned char* p, size_t n, size_t i, uint32_t& cp) {
  const unsigned char c = p[i];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) return 0;
    cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
         (p[i + 3] & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

// The same at s[i].
int decode_utf8(std::string_view s, size_t i, uint32_t& cp);
void append_utf8(std::string& out, uint32_t cp);
bool is_valid_utf8(std::string_view s);

}  // namespace yuqing::common
