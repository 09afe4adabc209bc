#include "matchers/normalizer.h"

#include <algorithm>

#include <opencc/opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>

#include "matchers/keyword_set.h"  // quote_token

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12 warns that the AVX-512 intrinsics' own _mm512_undefined values may be used
// uninitialized (a false positive of GCC 12): silenced for the header only.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#define YUQING_NORMALIZER_AVX512 1
#endif

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

size_t utf8_length(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

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

// normalize()'s `shift` when no copy segment is open.
constexpr int64_t no_segment = std::numeric_limits<int64_t>::min();

#ifdef YUQING_NORMALIZER_AVX512
#define YUQING_AVX512_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt,lzcnt")))

// For each 32-bit lane k, the bytes of the k-th three-byte code point: b2, b1, b0, -.
alignas(64) constexpr auto code_point_bytes = [] {
  std::array<char, 64> a{};
  for (int j = 0; j < 64; ++j) {
    const int k = j / 4, r = j % 4;
    a[j] = static_cast<char>(r == 3 ? 3 * k : 3 * k + 2 - r);
  }
  return a;
}();

// One window of the vector path: up to 16 three-byte code points at p (`left` bytes
// readable), each kept (folds to itself) or dropped according to `classes` (see class3_).
// The kept bytes are written, packed, to out[0..63]. Returns how many code points from the
// start qualify (0..16: it stops at the first other byte or code point) and which of them
// are kept (bit k for the k-th).
struct window {
  unsigned chars;
  uint32_t kept;
};

[[gnu::always_inline]] YUQING_AVX512_TARGET inline window classify_window(const unsigned char* p,
                                                                           size_t left, char* out,
                                                                           const uint32_t* classes) {
  const __mmask64 load = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
  const __m512i v = _mm512_maskz_loadu_epi8(load, p);
  // UTF-8 structure: lead bytes 1110xxxx at 0, 3, 6..., continuation bytes 10xxxxxx between.
  const uint64_t lead = _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, _mm512_set1_epi8(char(0xF0))),
                                               _mm512_set1_epi8(char(0xE0)));
  const uint64_t cont = _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, _mm512_set1_epi8(char(0xC0))),
                                               _mm512_set1_epi8(char(0x80)));
  constexpr uint64_t lead_at = 0x249249249249;  // bits 0, 3, ..., 45
  constexpr uint64_t cont_at = lead_at << 1 | lead_at << 2;
  const unsigned structured =
      static_cast<unsigned>(__builtin_ctzll((lead ^ lead_at) | (cont ^ cont_at) | uint64_t{1} << 48)) / 3;
  if (structured == 0) return {0, 0};
  // Code point k into lane k: b2 | b1 << 8 | b0 << 16, then its 16 bits.
  const __m512i d = _mm512_permutexvar_epi8(_mm512_load_si512(code_point_bytes.data()), v);
  const __m512i cp = _mm512_or_si512(
      _mm512_or_si512(_mm512_and_si512(d, _mm512_set1_epi32(0x3F)),
                      _mm512_and_si512(_mm512_srli_epi32(d, 2), _mm512_set1_epi32(0xFC0))),
      _mm512_and_si512(_mm512_srli_epi32(d, 4), _mm512_set1_epi32(0xF000)));
  // Its two class bits: one gather of 16 (faster here than 16 scalar loads).
  const __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xFFFF,
                                                    _mm512_srli_epi32(cp, 4), classes, 4);
  const __m512i shift = _mm512_slli_epi32(_mm512_and_si512(cp, _mm512_set1_epi32(15)), 1);
  const __m512i cls = _mm512_and_si512(_mm512_srlv_epi32(words, shift), _mm512_set1_epi32(3));
  const uint32_t kept = _mm512_cmpeq_epi32_mask(cls, _mm512_set1_epi32(1));
  const uint32_t dropped = _mm512_cmpeq_epi32_mask(cls, _mm512_set1_epi32(2));
  const unsigned classified = static_cast<unsigned>(__builtin_ctz(~(kept | dropped)));  // bit 16+ clear
  const unsigned chars = std::min(structured, classified);
  const uint32_t kept_within = kept & ((uint32_t{1} << chars) - 1);
  const uint64_t bytes = _pdep_u64(kept_within, lead_at) * 7;  // each kept code point's three bytes
  _mm512_storeu_si512(out, _mm512_maskz_compress_epi8(bytes, v));
  return {chars, kept_within};
}

// The folded form of one code point: NFKC (width), case folding, then per output code
// point t2s, numerals and noise, as `flags` ask.
std::string fold_code_point(uint32_t cp, uint32_t flags, const icu::Normalizer2& nfkc,
                            t2s_converter* t2s) {
  icu::UnicodeString u(static_cast<UChar32>(cp));
  if (flags & norm_width) {
    UErrorCode err = U_ZERO_ERROR;
    icu::UnicodeString n = nfkc.normalize(u, err);
    if (U_SUCCESS(err)) u = n;
  }
  if (flags & norm_case) u.foldCase(U_FOLD_CASE_DEFAULT);
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
  return folded;
}

}  // namespace

// A run of three-byte code points that fold to themselves or are dropped (see
// classify_window) from input byte i: the kept ones copied to tp + w, and one `window`
// segment per window that keeps any. A full window is taken to be followed by another, so
// that the next load does not wait for this one's classification. Returns where the run
// ends.
YUQING_AVX512_TARGET size_t normalizer::vector_run(const unsigned char* p, size_t i, size_t n,
                                                   char* tp, size_t& w_io, int64_t& shift,
                                                   std::vector<normalized_text::segment>& out,
                                                   size_t& k_io) const {
  // Locals, so that the vector stores (which may alias anything) do not force reloads.
  size_t w = w_io, k = k_io;
  const uint32_t* classes = class3_.data();
  // At most one segment per window, and a window takes at least four bytes (a code point
  // and a dropped ASCII byte) or ends the run.
  if (out.size() < k + (n - i) / 4 + 2) out.resize(std::max(k + (n - i) / 4 + 2, 2 * out.size()));
  normalized_text::segment* segments = out.data();
  for (;;) {
    const window r = classify_window(p + i, n - i, tp + w, classes);
    segments[k] = {static_cast<uint32_t>(w), static_cast<uint32_t>(i), 0, static_cast<uint16_t>(r.kept)};
    k += r.kept != 0;
    w += 3 * static_cast<size_t>(std::popcount(r.kept));
    if (r.chars == 16) {
      i += 48;
      continue;
    }
    i += 3 * r.chars;
    // An ASCII byte that is dropped (a space, with noise on) does not end the run.
    if (i < n && p[i] < 0x80 && ascii_[p[i]] == 0) {
      ++i;
      continue;
    }
    if (k != k_io) shift = no_segment;  // what follows starts a segment of its own
    w_io = w;
    k_io = k;
    return i;
  }
}

namespace {

bool cpu_has_avx512_vbmi2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
         __builtin_cpu_supports("bmi2");
}
#endif

}  // namespace

result<uint32_t> parse_normalize_option(std::string_view name) {
  for (const auto& [n, f] : option_names)
    if (name == n) return f;
  return error{"unknown normalize option " + quote_token(name) +
               " (known: width, case, t2s, noise, repeat, numerals)"};
}

std::vector<std::string> normalize_option_names(uint32_t flags) {
  std::vector<std::string> v;
  for (const auto& [n, f] : option_names)
    if (flags & f) v.emplace_back(n);
  return v;
}

std::shared_ptr<const normalizer> normalizer::get(uint32_t flags) {
  static std::mutex mu;
  static std::map<uint32_t, std::shared_ptr<const normalizer>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[flags];
  if (!slot) slot = std::make_shared<const normalizer>(flags);
  return slot;
}

normalizer::normalizer(uint32_t flags, bool vector) : flags_(flags), table_(table_size) {
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
    std::string folded = fold_code_point(cp, flags, *nfkc, t2s.get());
    if (folded.size() > 255) folded.resize(255);
    pool_ += folded;
    e.length = static_cast<uint8_t>(folded.size());
    e.word = !folded.empty() && std::isalnum(static_cast<unsigned char>(folded[0])) ? 1 : 0;
    uint32_t first;
    e.copy = !folded.empty() && decode_utf8(folded, 0, first) == static_cast<int>(folded.size()) &&
             folded.size() == utf8_length(cp);
  }
  for (int c = 0; c < 128; ++c) {
    const entry& e = table_[c];
    ascii_[c] = (e.length == 1) ? static_cast<uint8_t>(pool_[e.offset]) : 0;
  }
  // Which three-byte code points (U+0800..U+FFFF) fold to themselves and which are dropped:
  // one bit each, in words indexed by the bits of a little-endian load of the UTF-8 that
  // pick them, (b1 & 0x3F) << 8 | (lead & 0x0F), so that the run loop needs one AND. Code
  // points below U+0800 (their three-byte forms are overlong) and surrogates are invalid
  // there and in neither set.
  kept3_.assign(0x3F10, 0);
  dropped3_.assign(0x3F10, 0);
  for (uint32_t cp = 0x800; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const entry& e = table_[cp];
    const size_t word = (cp >> 6 & 0x3F) << 8 | cp >> 12;
    const uint64_t bit = uint64_t{1} << (cp & 63);
    std::string self;
    append_utf8(self, cp);
    if (e.length == self.size() && pool_.compare(e.offset, e.length, self) == 0) kept3_[word] |= bit;
    if (e.length == 0) dropped3_[word] |= bit;
  }
#ifdef YUQING_NORMALIZER_AVX512
  vector_ = vector && cpu_has_avx512_vbmi2();
#else
  (void)vector;
#endif
  if (vector_) {  // the same two sets, as the vector path reads them
    class3_.assign(0x10000 / 16, 0);
    for (uint32_t cp = 0x800; cp < 0x10000; ++cp) {
      const size_t word = (cp >> 6 & 0x3F) << 8 | cp >> 12;
      const uint64_t bit = uint64_t{1} << (cp & 63);
      const uint32_t cls = (kept3_[word] & bit) ? 1 : (dropped3_[word] & bit) ? 2 : 0;
      class3_[cp / 16] |= cls << (cp % 16 * 2);
    }
  }
  // A code point beyond the table folds to itself unless it is noise: see lookup().
}

const normalizer::entry& normalizer::lookup(uint32_t cp) const {
  return cp < table_size ? table_[cp] : identity_;
}

void normalizer::normalize(std::string_view in, normalized_text& out) const {
  size_t k = 0;
  const size_t len = normalize_at(in, out.text, 0, out.segments, k);
  out.text.resize(len);
  out.segment_count = k;
  out.source_size = static_cast<uint32_t>(in.size());
}

size_t normalizer::normalize_append(std::string_view in, std::string& buffer,
                                    std::vector<normalized_text::segment>& segments,
                                    size_t& segment_count) const {
  const size_t base = buffer.size();
  const size_t len = normalize_at(in, buffer, base, segments, segment_count);
  buffer.resize(base + len);
  return len;
}

namespace {

// What normalize_at() writes: output bytes tp[0, w) at buffer[base], the map's segments
// (k of them), the open copy segment and the last fold (for `repeat`).
struct fold_output {
  std::string& buffer;
  const size_t base;
  std::vector<normalized_text::segment>& segments;
  size_t& k;
  char* tp;  // output byte w is tp[w]
  size_t w = 0;
  // Output byte w continues the current copy segment when it comes from input byte
  // w + shift; a fold or a dropped code point ends the segment.
  int64_t shift = no_segment;
  const char* last = nullptr;  // folded bytes emitted last, for repeat
  size_t last_len = 0;

  __attribute__((always_inline)) void add_segment(size_t out_at, size_t in_at, size_t fold_len) {
    if (k == segments.size()) segments.resize(std::max<size_t>(16, k * 2));
    segments[k++] = {static_cast<uint32_t>(out_at), static_cast<uint32_t>(in_at),
                     static_cast<uint16_t>(fold_len), 0};
  }
  // Invariant: the room left is at least the input left (plus slack), so output that is no
  // longer than its input (everything but a few folds) needs no check.
  static constexpr size_t slack = 64;
  void room_for(size_t len, size_t input_left) {
    const size_t need = base + w + len + input_left + slack;
    if (need <= buffer.size()) return;
    buffer.resize(std::max(need, buffer.size() * 2));
    tp = buffer.data() + base;
  }
  __attribute__((always_inline)) void copy_from(size_t i) {
    const int64_t s = static_cast<int64_t>(i) - static_cast<int64_t>(w);
    if (s != shift) {
      add_segment(w, i, 0);
      shift = s;
    }
  }
  // The folded form `bytes` of the code point of `in_len` bytes at input offset i, of n.
  __attribute__((always_inline)) void emit(const char* bytes, size_t len, size_t i,
                                           size_t in_len, bool copy, bool repeat, size_t n) {
    if (repeat) {
      if (len == last_len && std::memcmp(bytes, last, len) == 0) return;
      last = bytes;
      last_len = len;
    }
    if (copy) {
      copy_from(i);
    } else {
      room_for(len, n - i - in_len);
      add_segment(w, i, in_len);
      shift = no_segment;
    }
    std::memcpy(tp + w, bytes, len);
    w += len;
  }
  // Input bytes p[from, to) are kept as they are.
  __attribute__((always_inline)) void keep(const unsigned char* p, size_t from, size_t to) {
    copy_from(from);
    std::memcpy(tp + w, p + from, to - from);
    w += to - from;
  }
};

// A run of three-byte code points from p[i] that fold to themselves or are dropped as
// noise (most CJK text and its punctuation): checked one by one, copied by stretches.
// Returns where the run ends (i when there is none). `same` and `dropped`: see kept3_.
__attribute__((always_inline)) inline size_t three_byte_run(const unsigned char* p, size_t i,
                                                            size_t n, const uint64_t* same,
                                                            const uint64_t* dropped,
                                                            fold_output& o) {
  size_t run = i;  // the stretch being kept
  while (i + 3 < n) {
    static_assert(std::endian::native == std::endian::little);
    uint32_t v;  // lead byte in bits 0-7
    std::memcpy(&v, p + i, 4);
    // Lead byte 1110xxxx, two continuation bytes 10xxxxxx.
    if ((v & 0xC0C0F0u) != 0x8080E0u) break;
    // The code point's bits, found by the raw bytes (see kept3_).
    const uint32_t word = v & 0x3F0Fu, bit = v >> 16 & 0x3Fu;
    if (same[word] >> bit & 1) {
      i += 3;
      continue;
    }
    if (!(dropped[word] >> bit & 1)) break;
    if (i > run) o.keep(p, run, i);
    i += 3;
    run = i;
  }
  if (i > run) o.keep(p, run, i);
  return i;
}

}  // namespace

size_t normalizer::normalize_at(std::string_view in, std::string& buffer, size_t base,
                                std::vector<normalized_text::segment>& segments, size_t& k) const {
  const size_t n = in.size();
  // The buffer keeps its size between calls (the caller trims it; growing it back only
  // fills the difference).
  if (buffer.size() < base + n + fold_output::slack) buffer.resize(base + n + fold_output::slack);
  fold_output o{buffer, base, segments, k, buffer.data() + base};
  const bool noise = flags_ & norm_noise;
  const bool repeat = flags_ & norm_repeat;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80 && !repeat) {  // ASCII fast path
      if (const uint8_t f = ascii_[c]) {
        o.copy_from(i);
        o.tp[o.w++] = static_cast<char>(f);
      }
      ++i;
      continue;
    }
#ifdef YUQING_NORMALIZER_AVX512
    if (vector_ && !repeat) {  // the same runs as below, 16 code points at a time
      const size_t start = i;
      i = vector_run(p, i, n, o.tp, o.w, o.shift, segments, k);
      if (i > start) continue;
    }
#endif
    if (!vector_ && !repeat) {
      const size_t start = i;
      i = three_byte_run(p, i, n, kept3_.data(), dropped3_.data(), o);
      if (i > start) continue;
    }
    uint32_t cp;
    const int len = common::decode_utf8_at(p, n, i, cp);  // inlined
    if (len == 0) {  // invalid byte
      if (!noise) {
        static const char bad = '\xFF';
        o.emit(&bad, 1, i, 1, true, repeat, n);
      }
      ++i;
      continue;
    }
    if (cp < table_size) {
      const entry& e = table_[cp];
      if (e.length)
        o.emit(pool_.data() + e.offset, e.length, i, static_cast<size_t>(len), e.copy, repeat, n);
    } else if (!(noise && is_noise(cp))) {
      o.emit(in.data() + i, static_cast<size_t>(len), i, static_cast<size_t>(len), true, repeat, n);
    }
    i += static_cast<size_t>(len);
  }
  return o.w;
}

uint32_t normalized_view::origin(size_t x) const {
  if (x >= text.size()) return source_size;
  // The last segment that starts at or before x (segments[0].out == 0 whenever there is
  // text), by a binary search whose steps are conditional moves, not branches.
  const segment* s = segments;
  for (size_t len = segment_count; len > 1;) {
    const size_t half = len / 2;
    s = s[half].out <= x ? s + half : s;
    len -= half;
  }
  if (s->fold_len) return s->in;
  if (s->kept) {  // the j-th kept code point of the window
    uint32_t kept = s->kept;
    for (size_t j = (x - s->out) / 3; j > 0; --j) kept &= kept - 1;
    return s->in + 3 * static_cast<uint32_t>(std::countr_zero(kept));
  }
  // A copy segment keeps the UTF-8 structure: back to the start of the code point.
  size_t k = x;
  while (k > s->out && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
  return s->in + static_cast<uint32_t>(k - s->out);
}

std::string normalizer::normalize(std::string_view in) const {
  normalized_text t;
  normalize(in, t);
  return std::move(t.text);
}

std::pair<uint32_t, uint32_t> normalizer::original_span(const normalized_view& n,
                                                        std::string_view original, size_t nb,
                                                        size_t ne) {
  const uint32_t begin = n.origin(nb);
  const uint32_t last = n.origin(ne - 1);
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
