#include "precision/text.h"

namespace yuqing::precision {

std::vector<code_point> decode_utf8(std::string_view s) {
  std::vector<code_point> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    uint32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      const auto x = static_cast<unsigned char>(s[i + k]);
      ok = (x & 0xC0) == 0x80;
      c = (c << 6) | (x & 0x3F);
    }
    const size_t len = ok ? n : 1;
    out.push_back({ok ? c : 0xFFFD, static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)});
    i += len;
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

bool cjk_cp(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x3134F);
}

bool word_cp(uint32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return cjk_cp(c) || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x3040 && c <= 0x30FF);
}

std::pair<size_t, size_t> cp_range(const std::vector<code_point>& cps, uint32_t begin, uint32_t end) {
  size_t first = 0;
  while (first < cps.size() && cps[first].end <= begin) ++first;
  size_t last = first;
  while (last < cps.size() && cps[last].begin < end) ++last;
  return {first, last};
}

std::vector<std::string> words_in(std::string_view text, const std::vector<code_point>& cps, size_t first,
                                  size_t last, const std::vector<bool>& skip) {
  std::vector<std::string> out;
  auto piece = [&](size_t a, size_t b) {
    return std::string(text.substr(cps[a].begin, cps[b - 1].end - cps[a].begin));
  };
  auto usable = [&](size_t k) { return k >= skip.size() || !skip[k]; };
  for (size_t i = first; i < last;) {
    size_t j = i;
    if (!usable(i)) {
      ++j;
    } else if (cjk_cp(cps[i].c)) {
      while (j < last && cjk_cp(cps[j].c) && usable(j)) ++j;
      for (size_t a = i; a < j; ++a)
        for (size_t n = 2; n <= 3 && a + n <= j; ++n) out.push_back(piece(a, a + n));
    } else if (word_cp(cps[i].c)) {
      while (j < last && word_cp(cps[j].c) && !cjk_cp(cps[j].c) && usable(j)) ++j;
      if (j - i >= 2) out.push_back(piece(i, j));
    } else {
      ++j;
    }
    i = j;
  }
  return out;
}

std::string excerpt(std::string_view text, uint32_t begin, uint32_t end, size_t context) {
  const auto cps = decode_utf8(text);
  const auto [first, last] = cp_range(cps, begin, end);
  const size_t from = first >= context ? first - context : 0;
  const size_t to = std::min(cps.size(), last + context);
  const uint32_t b = from < cps.size() ? cps[from].begin : static_cast<uint32_t>(text.size());
  const uint32_t e = to > 0 ? cps[to - 1].end : 0;
  std::string out = from > 0 ? "…" : "";
  out += text.substr(b, begin - b);
  out += "【";
  out += text.substr(begin, end - begin);
  out += "】";
  if (e > end) out += text.substr(end, e - end);
  if (to < cps.size()) out += "…";
  return out;
}

}  // namespace yuqing::precision
