// normalizer: folds text so that evasions match the keywords they hide, and keeps the way
// back to the original bytes.
//
// Options (a set's `normalize` list): width (NFKC: full-width, circled, enclosed and other
// compatibility forms), case (Unicode case folding), t2s (traditional -> simplified, from
// OpenCC's character table), noise (drop spaces, punctuation, symbols, emoji, marks and
// zero-width characters), repeat (collapse runs of one character), numerals (Chinese and
// financial numerals -> ASCII digits).
//
// Operation: the folding of every code point of planes 0 and 1 is computed once per option
// set at start-up from ICU and OpenCC; normalize() is then one pass of table lookups, with
// an ASCII fast path. Planes 2+ pass through unchanged (plane 14 tags and selectors are noise).
// Runs of three-byte code points that fold to themselves or are dropped (CJK text and its
// punctuation) are classified 16 at a time with AVX-512 (VBMI2) where the CPU has it,
// checked once at construction; elsewhere one at a time. Both give the same bytes, and
// maps that agree on every byte's origin.
// Invalid UTF-8 never crashes: each bad byte becomes the byte 0xFF in the output (which no
// valid keyword contains, so nothing matches across it), or is dropped when noise is on.
//
// Concurrency: a normalizer is immutable; share it freely. get() is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/utf8.h"
#include "config/result.h"

namespace yuqing::matchers {

enum normalize_flag : uint32_t {
  norm_width = 1,
  norm_case = 2,
  norm_t2s = 4,
  norm_noise = 8,
  norm_repeat = 16,
  norm_numerals = 32,
};
constexpr uint32_t norm_default = norm_width | norm_case | norm_t2s | norm_noise;

// "width" -> norm_width, ...; an error names the unknown option.
result<uint32_t> parse_normalize_option(std::string_view name);
std::vector<std::string> normalize_option_names(uint32_t flags);

// Normalized text and the map back to the original bytes.
//
// The map is kept as segments, not one entry per byte: a `copy` segment is a stretch where
// every code point folded to one code point of its own length (itself, its lower case, its
// simplified form...), so output byte out+k comes from input byte in+k; a `fold` segment is
// the output of one code point whose folding changed its length (Ａ -> a, ⑩ -> 10); a
// `window` segment (the vector path's) is up to 16 three-byte code points from `in`, of
// which those in `kept` (bit k: the k-th) were kept, in order, and the others dropped. A
// new segment starts after dropped noise. Ordinary text needs about ten per message.
struct normalized_segment {
  uint32_t out;       // first output byte
  uint32_t in;        // input byte it comes from
  uint16_t fold_len;  // fold segment: the input length of the folded code point
  uint16_t kept;      // window segment: its kept code points; 0 with fold_len 0: copy
};

// A normalized text and its map, wherever they are stored (a normalized_text, or one text
// of several in a shared buffer: normalizer::normalize_append).
struct normalized_view {
  using segment = normalized_segment;
  std::string_view text;
  const segment* segments = nullptr;
  size_t segment_count = 0;
  uint32_t source_size = 0;

  // Offset in the original of the code point that produced text[x]; the original's size
  // for x >= text.size().
  uint32_t origin(size_t x) const;
};

struct normalized_text {
  using segment = normalized_segment;
  std::string text;
  // The first segment_count entries are the map; the vector keeps its size between calls
  // (the normalizer writes into it without growing it per entry).
  std::vector<segment> segments;
  size_t segment_count = 0;
  uint32_t source_size = 0;

  normalized_view view() const { return {text, segments.data(), segment_count, source_size}; }
  uint32_t origin(size_t x) const { return view().origin(x); }

  void clear() {
    text.clear();
    segment_count = 0;
    source_size = 0;
  }
};

class normalizer {
 public:
  // The shared normalizer for these flags; the first call per flag set builds its tables.
  static std::shared_ptr<const normalizer> get(uint32_t flags);

  uint32_t flags() const { return flags_; }

  // Replaces `out` with the normalization of `in`.
  void normalize(std::string_view in, normalized_text& out) const;
  std::string normalize(std::string_view in) const;
  // Appends the normalization of `in` to `buffer`, and its map to segments[segment_count...]
  // (advancing segment_count; output offsets count from where this text starts in the
  // buffer). Returns the length appended. For several texts scanned as one.
  size_t normalize_append(std::string_view in, std::string& buffer,
                          std::vector<normalized_segment>& segments, size_t& segment_count) const;

  // The original byte span [begin, end) of the normalized bytes [nb, ne), ne > nb.
  static std::pair<uint32_t, uint32_t> original_span(const normalized_view& n, std::string_view original,
                                                     size_t nb, size_t ne);

  // True when the code point that starts at `original[pos]` folds to an ASCII letter or
  // digit: used for whole-word checks of Latin keywords.
  bool is_word_char_at(std::string_view original, size_t pos) const;
  // Same for the code point that ends just before `original[pos]`.
  bool is_word_char_before(std::string_view original, size_t pos) const;

  // Use get(). `vector` false keeps to the scalar loop (the reference the tests compare with).
  explicit normalizer(uint32_t flags, bool vector = true);
  bool vectorized() const { return vector_; }
  normalizer(const normalizer&) = delete;
  normalizer& operator=(const normalizer&) = delete;

 private:
  struct entry {
    uint32_t offset;   // into pool_
    uint8_t length;    // 0: the code point is dropped (noise)
    uint8_t word;      // 1 when the folded form starts with an ASCII letter or digit
    uint8_t copy;      // 1 when it folds to one code point of its own UTF-8 length
    uint8_t unused;
  };
  const entry& lookup(uint32_t cp) const;
  // Writes the normalization of `in` at buffer[base...] (growing the buffer, which may then
  // hold more than the output) and its map at segments[k...]; returns the output length.
  size_t normalize_at(std::string_view in, std::string& buffer, size_t base,
                      std::vector<normalized_segment>& segments, size_t& k) const;
  // normalize_at()'s vector path (AVX-512 only).
  size_t vector_run(const unsigned char* p, size_t i, size_t n, char* tp, size_t& w,
                    int64_t& shift, std::vector<normalized_segment>& segments, size_t& k) const;

  uint32_t flags_;
  uint8_t ascii_[128];            // folded ASCII byte, 0 = dropped
  std::vector<entry> table_;      // planes 0 and 1
  std::string pool_;              // folded UTF-8 of every entry
  // Three-byte code points that fold to themselves / are dropped, for the run loop (see
  // the constructor for the layout).
  std::vector<uint64_t> kept3_;
  std::vector<uint64_t> dropped3_;
  // The same two sets for the vector path (built only when it runs): two bits per code
  // point of plane 0 (1 kept, 2 dropped, 0 otherwise, also for U+0000..U+07FF and
  // surrogates), indexed by code point.
  std::vector<uint32_t> class3_;
  bool vector_ = false;
  entry identity_{0, 0, 0, 1, 0};    // marker for code points beyond the table
};

// UTF-8 as the normalizer reads and writes it (common/utf8.h).
using common::append_utf8;
using common::decode_utf8;
using common::is_valid_utf8;

}  // namespace yuqing::matchers
