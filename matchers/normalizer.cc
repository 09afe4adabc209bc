#include "matchers/normalizer.h"

#include <algorithm>

#include <opencc/opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace yuqing::matchers {
namespace {

constexpr uint32_t table_size = 0x20000;  // planes 0 and 1

constexpr std::array<std::pair<const char*, uint32_t>, 6> option_names = {{
    {"width", norm_width},
    {"case", norm_case},
    {"t2s", norm_t2s},
    {"noise", norm_noise},
    {"repeat", norm_repeat},
    {"numerals", norm_numerals},
}};

bool is_noise(uint32_t cp) {
  if (cp >= 0xE0000 && cp <= 0xE0FFF) return true;  // tags, variation selectors supplement
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_SPACE_SEPARATOR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return true;
    default:
      return false;
  }
}

int numeral_digit(uint32_t cp) {
  static const std::map<uint32_t, int> digits = {
      {U'〇', 0}, {U'零', 0}, {U'一', 1}, {U'壹', 1}, {U'幺', 1}, {U'二', 2}, {U'贰', 2},
      {U'貳', 2}, {U'两', 2}, {U'兩', 2}, {U'三', 3}, {U'叁', 3}, {U'參', 3}, {U'四', 4},
      {U'肆', 4}, {U'五', 5}, {U'伍', 5}, {U'六', 6}, {U'陆', 6}, {U'陸', 6}, {U'七', 7},
      {U'柒', 7}, {U'八', 8}, {U'捌', 8}, {U'九', 9}, {U'玖', 9}};
  const auto it = digits.find(cp);
  return it == digits.end() ? -1 : it->second;
}

// OpenCC's traditional -> simplified conversion, applied to one folded code point at a time.
class t2s_converter {
 public:
  t2s_converter() {
    handle_ = opencc_open("t2s.json");
    if (handle_ == reinterpret_cast<opencc_t>(-1)) {
      throw std::runtime_error(std::string("OpenCC: cannot open t2s.json: ") +
                               opencc_error());
    }
  }
  ~t2s_converter() { opencc_close(handle_); }
  std::string convert(const std::string& s) const {
    char* out = opencc_convert_utf8(handle_, s.data(), s.size());
    if (out == nullptr) return s;
    std::string r(out);
    opencc_convert_utf8_free(out);
    return r;
  }

 private:
  opencc_t handle_;
};

bool is_cjk(uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || cp >= 0x20000;
}

}  // namespace

result<uint32_t> parse_normalize_option(std::string_view name) {
  for (const auto& [n, f] : option_names)
    if (name == n) return f;
  return error{"unknown normalize option '" + std::string(name) +
               "' (known: width, case, t2s, noise, repeat, numerals)"};
}

std::vector<std::string> normalize_option_names(uint32_t flags) {
  std::vector<std::string> v;
  for (const auto& [n, f] : option_names)
    if (flags & f) v.emplace_back(n);
  return v;
}

int decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char c = p[i];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) return 0;
    cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
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

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid_utf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    const int len = decode_utf8(s, i, cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::shared_ptr<const normalizer> normalizer::get(uint32_t flags) {
  static std::mutex mu;
  static std::map<uint32_t, std::shared_ptr<const normalizer>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[flags];
  if (!slot) slot = std::make_shared<const normalizer>(flags);
  return slot;
}

normalizer::normalizer(uint32_t flags) : flags_(flags), table_(table_size) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(err);
  if (U_FAILURE(err)) throw std::runtime_error("ICU: no NFKC normalizer");
  std::unique_ptr<t2s_converter> t2s;
  if (flags & norm_t2s) t2s = std::make_unique<t2s_converter>();

  pool_.reserve(table_size * 3);
  for (uint32_t cp = 0; cp < table_size; ++cp) {
    entry& e = table_[cp];
    e.offset = static_cast<uint32_t>(pool_.size());
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // never decoded
    icu::UnicodeString u(static_cast<UChar32>(cp));
    if (flags & norm_width) {
      err = U_ZERO_ERROR;
      icu::UnicodeString n = nfkc->normalize(u, err);
      if (U_SUCCESS(err)) u = n;
    }
    if (flags & norm_case) u.foldCase(U_FOLD_CASE_DEFAULT);
    // Per output code point: t2s, numerals, noise.
    std::string folded;
    for (int32_t k = 0; k < u.length();) {
      const UChar32 c = u.char32At(k);
      k += U16_LENGTH(c);
      std::string piece;
      append_utf8(piece, static_cast<uint32_t>(c));
      if (t2s && is_cjk(static_cast<uint32_t>(c))) piece = t2s->convert(piece);
      for (size_t j = 0; j < piece.size();) {
        uint32_t pc;
        const int len = decode_utf8(piece, j, pc);
        if (len == 0) break;
        j += len;
        if ((flags & norm_noise) && is_noise(pc)) continue;
        if (flags & norm_numerals) {
          if (const int d = numeral_digit(pc); d >= 0) pc = '0' + d;
        }
        append_utf8(folded, pc);
      }
    }
    if (folded.size() > 255) folded.resize(255);
    pool_ += folded;
    e.length = static_cast<uint8_t>(folded.size());
    e.word = !folded.empty() && std::isalnum(static_cast<unsigned char>(folded[0])) ? 1 : 0;
  }
  for (int c = 0; c < 128; ++c) {
    const entry& e = table_[c];
    ascii_[c] = (e.length == 1) ? static_cast<uint8_t>(pool_[e.offset]) : 0;
  }
  // Which BMP code points fold to themselves: one bit each (8 KiB, stays in L1).
  same_.assign(0x10000 / 64, 0);
  for (uint32_t cp = 0x80; cp < 0x10000; ++cp) {
    const entry& e = table_[cp];
    std::string self;
    append_utf8(self, cp);
    if (e.length == self.size() && pool_.compare(e.offset, e.length, self) == 0)
      same_[cp >> 6] |= uint64_t{1} << (cp & 63);
  }
  // A code point beyond the table folds to itself unless it is noise: see lookup().
}

const normalizer::entry& normalizer::lookup(uint32_t cp) const {
  return cp < table_size ? table_[cp] : identity_;
}

void normalizer::normalize(std::string_view in, normalized_text& out) const {
  // Writes through raw pointers into buffers that keep their size between calls (text and
  // origin are trimmed at the end; growing them back only fills the difference).
  const size_t n = in.size();
  std::string& text = out.text;
  std::vector<uint32_t>& origin = out.origin;
  size_t cap = n + 64;
  if (text.size() < cap) text.resize(cap);
  if (origin.size() < cap + 1) origin.resize(cap + 1);
  cap = std::min(text.size(), origin.size() - 1);
  char* tp = text.data();
  uint32_t* op = origin.data();
  size_t w = 0;
  auto reserve = [&](size_t len) {
    if (w + len <= cap) return;
    cap = std::max(w + len, cap * 2);
    text.resize(cap);
    origin.resize(cap + 1);
    tp = text.data();
    op = origin.data();
  };

  const bool noise = flags_ & norm_noise;
  const bool repeat = flags_ & norm_repeat;
  const char* last = nullptr;  // folded bytes emitted last, for repeat
  size_t last_len = 0;
  auto emit = [&](const char* bytes, size_t len, size_t from) {
    if (repeat) {
      if (len == last_len && std::memcmp(bytes, last, len) == 0) return;
      last = bytes;
      last_len = len;
    }
    reserve(len);
    for (size_t k = 0; k < len; ++k) {
      tp[w + k] = bytes[k];
      op[w + k] = static_cast<uint32_t>(from);
    }
    w += len;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80 && !repeat) {  // ASCII fast path
      if (const uint8_t f = ascii_[c]) {
        reserve(1);
        tp[w] = static_cast<char>(f);
        op[w++] = static_cast<uint32_t>(i);
      }
      ++i;
      continue;
    }
    uint32_t cp;
    int len;
    if (c >= 0xE1 && c <= 0xEC && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 &&
        (p[i + 2] & 0xC0) == 0x80) {  // most of the BMP (all CJK): inline decode
      cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
      len = 3;
      if (!repeat && (same_[cp >> 6] >> (cp & 63) & 1)) {  // folds to itself: copy
        reserve(3);
        tp[w] = static_cast<char>(c);
        tp[w + 1] = static_cast<char>(p[i + 1]);
        tp[w + 2] = static_cast<char>(p[i + 2]);
        op[w] = op[w + 1] = op[w + 2] = static_cast<uint32_t>(i);
        w += 3;
        i += 3;
        continue;
      }
    } else {
      len = decode_utf8(in, i, cp);
    }
    if (len == 0) {  // invalid byte
      if (!noise) {
        static const char bad = '\xFF';
        emit(&bad, 1, i);
      }
      ++i;
      continue;
    }
    if (cp < table_size) {
      const entry& e = table_[cp];
      if (e.length) emit(pool_.data() + e.offset, e.length, i);
    } else if (!(noise && is_noise(cp))) {
      emit(in.data() + i, static_cast<size_t>(len), i);
    }
    i += static_cast<size_t>(len);
  }
  origin[w] = static_cast<uint32_t>(n);
  text.resize(w);
  origin.resize(w + 1);
}

std::string normalizer::normalize(std::string_view in) const {
  normalized_text t;
  normalize(in, t);
  return std::move(t.text);
}

std::pair<uint32_t, uint32_t> normalizer::original_span(const normalized_text& n,
                                                        std::string_view original, size_t nb,
                                                        size_t ne) {
  const uint32_t begin = n.origin[nb];
  const uint32_t last = n.origin[ne - 1];
  uint32_t cp;
  const int len = last < original.size() ? decode_utf8(original, last, cp) : 0;
  return {begin, last + static_cast<uint32_t>(len ? len : 1)};
}

bool normalizer::is_word_char_at(std::string_view original, size_t pos) const {
  if (pos >= original.size()) return false;
  uint32_t cp;
  if (decode_utf8(original, pos, cp) == 0) return false;
  return lookup(cp).word != 0;
}

bool normalizer::is_word_char_before(std::string_view original, size_t pos) const {
  if (pos == 0 || pos > original.size()) return false;
  size_t start = pos - 1;
  for (int k = 0; k < 3 && start > 0 &&
                  (static_cast<unsigned char>(original[start]) & 0xC0) == 0x80;
       ++k)
    --start;
  uint32_t cp;
  const int len = decode_utf8(original, start, cp);
  if (len == 0 || start + len != pos) return false;
  return lookup(cp).word != 0;
}

}  // namespace yuqing::matchers
