#include "segment/segmenter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace yuqing::segment {

namespace {

constexpr size_t max_word_chars = 16;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The code point at text[i] and its length in bytes; a bad byte is U+FFFD of length 1.
std::pair<char32_t, size_t> decode(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return {c, 1};
  const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > text.size()) return {0xFFFD, 1};
  char32_t cp = c & (0x3F >> (n - 1));
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (!is_continuation(b)) return {0xFFFD, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, n};
}

bool is_ascii_alnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Characters segmented together: Han ideographs (URO, extension A, compatibility,
// supplementary planes) and ASCII letters and digits, as jieba's re_han_default.
bool in_run(char32_t c) {
  return is_ascii_alnum(c) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F);
}

}  // namespace

dag_segmenter::dag_segmenter(std::shared_ptr<const dictionary> base,
                             const std::vector<std::string>& extra_words, uint32_t extra_frequency)
    : base_(std::move(base)) {
  const double log_total = base_ ? base_->log_total() : std::log(1e8);
  unknown_cost_ = static_cast<float>(-log_total);
  size_t bytes = 0;
  for (const auto& w : extra_words) bytes += w.size();
  arena_.reserve(bytes);  // never reallocated below: the map's keys point into it
  for (const auto& w : extra_words) {
    if (w.empty()) continue;
    const size_t off = arena_.size();
    arena_.append(w);
    const std::string_view v(arena_.data() + off, w.size());
    const uint32_t f = std::max(extra_frequency, base_ ? base_->find(v).value_or(0) : 0);
    const dictionary::entry e{f, static_cast<float>(std::log(double(f)) - log_total)};
    auto [it, fresh] = extra_.emplace(v, e);
    if (!fresh && it->second.freq < f) it->second = e;
    const auto [cp, first] = decode(v, 0);
    if (cp < 0x10000) extra_first_[cp >> 6] |= uint64_t{1} << (cp & 63);
    for (size_t n = first; n < v.size(); n += decode(v, n).second) extra_.emplace(v.substr(0, n), dictionary::entry{});
  }
}

std::optional<float> dag_segmenter::cost(std::string_view word, bool extra, bool& prefix_only) const {
  const dictionary::entry* e = base_ ? base_->lookup(word) : nullptr;
  if (extra) {
    const auto it = extra_.find(word);
    if (it != extra_.end() && (!e || it->second.freq > e->freq)) e = &it->second;
  }
  if (!e) return std::nullopt;
  prefix_only = e->freq == 0;
  return e->log_p;
}

bool dag_segmenter::is_word(std::string_view word) const {
  bool prefix_only = false;
  return cost(word, !extra_.empty(), prefix_only).has_value() && !prefix_only;
}

// One run of segmentable characters: chars[k] is the byte offset of its k-th character,
// chars.back() its end. Appends the end of every word of the best route to `out`.
void dag_segmenter::cut_run(std::string_view text, const std::vector<uint32_t>& chars,
                            std::vector<uint32_t>& out) const {
  const size_t n = chars.size() - 1;
  thread_local std::vector<float> score;
  thread_local std::vector<uint32_t> next;  // the end (in characters) of the word from k
  score.assign(n + 1, 0);
  next.assign(n, 0);
  for (size_t i = n; i-- > 0;) {
    const bool extra = !extra_.empty() && extra_starts(decode(text, chars[i]).first);
    float best = -std::numeric_limits<float>::infinity();
    for (size_t j = i; j < n && j < i + max_word_chars; ++j) {
      bool prefix_only = false;
      const auto c = cost(text.substr(chars[i], chars[j + 1] - chars[i]), extra, prefix_only);
      if (!c && j > i) break;  // no longer word starts here
      if (j > i && prefix_only) continue;
      const float s = (c && !prefix_only ? *c : unknown_cost_) + score[j + 1];
      if (s >= best) {  // ties go to the longer word, as in jieba
        best = s;
        next[i] = static_cast<uint32_t>(j + 1);
      }
    }
    score[i] = best;
  }
  bool prev_single_ascii = false;
  for (size_t i = 0; i < n;) {
    const size_t j = next[i];
    const bool single_ascii = j == i + 1 && chars[j] - chars[i] == 1 &&
                              is_ascii_alnum(static_cast<unsigned char>(text[chars[i]]));
    if (single_ascii && prev_single_ascii) out.pop_back();  // letters and digits stay one token
    out.push_back(chars[j]);
    prev_single_ascii = single_ascii;
    i = j;
  }
}

void dag_segmenter::boundaries(std::string_view text, std::vector<uint32_t>& out) const {
  out.assign(1, 0);
  thread_local std::vector<uint32_t> chars;
  chars.clear();
  auto flush = [&](size_t end) {
    if (chars.empty()) return;
    chars.push_back(static_cast<uint32_t>(end));
    cut_run(text, chars, out);
    chars.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const auto [cp, len] = decode(text, i);
    if (in_run(cp)) {
      chars.push_back(static_cast<uint32_t>(i));
    } else {
      flush(i);
      out.push_back(static_cast<uint32_t>(i + len));
    }
    i += len;
  }
  flush(text.size());
  if (out.back() != text.size()) out.push_back(static_cast<uint32_t>(text.size()));
}

std::vector<std::string> dag_segmenter::cut(std::string_view text) const {
  std::vector<uint32_t> b;
  boundaries(text, b);
  std::vector<std::string> words;
  for (size_t k = 1; k < b.size(); ++k) words.emplace_back(text.substr(b[k - 1], b[k] - b[k - 1]));
  return words;
}

const char* to_string(alignment a) {
  switch (a) {
    case alignment::word: return "word";
    case alignment::cut: return "cut";
    case alignment::unknown: break;
  }
  return "";
}

alignment align(const segmenter& seg, std::string_view text, uint32_t begin, uint32_t end,
                size_t window_chars) {
  if (begin >= end || end > text.size()) return alignment::unknown;
  size_t from = begin, to = end;
  for (size_t k = 0; k < window_chars && from > 0; ++k) {
    --from;
    while (from > 0 && is_continuation(static_cast<unsigned char>(text[from]))) --from;
  }
  for (size_t k = 0; k < window_chars && to < text.size(); ++k) {
    ++to;
    while (to < text.size() && is_continuation(static_cast<unsigned char>(text[to]))) ++to;
  }
  thread_local std::vector<uint32_t> bounds;
  seg.boundaries(text.substr(from, to - from), bounds);
  const uint32_t b = begin - static_cast<uint32_t>(from), e = end - static_cast<uint32_t>(from);
  // The word boundaries at or before b and at or after e: the stretch's ends align when
  // they are b and e; when nothing lies between, [wb, we) is one word holding the stretch.
  const auto after_b = std::upper_bound(bounds.begin(), bounds.end(), b);
  const uint32_t wb = *(after_b - 1);
  const auto at_e = std::lower_bound(after_b, bounds.end(), e);
  const uint32_t we = at_e == bounds.end() ? bounds.back() : *at_e;
  if (wb == b && we == e && at_e != bounds.end()) return alignment::word;
  if (at_e != after_b) return alignment::cut;  // a boundary inside the stretch: it spans words partly
  const std::string_view window = text.substr(from, to - from);
  const bool head = wb == b || seg.is_word(window.substr(wb, b - wb));
  const bool tail = we == e || seg.is_word(window.substr(e, we - e));
  return head && tail ? alignment::word : alignment::cut;
}

}  // namespace yuqing::segment
