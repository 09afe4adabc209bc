// segmenter: Chinese word segmentation, and whether a stretch of text lines up with words.
//
// segmenter is the interface; dag_segmenter is the one yuqing runs (see README.md for the
// comparison with friso that chose it): jieba's algorithm without its HMM. Over each run
// of Han characters and ASCII letters and digits it builds the DAG of every dictionary
// word starting at each character and takes the route of maximum probability (the sum of
// log(freq / total) of its words; a character that is no word counts as frequency 1).
// Consecutive ASCII letters and digits left as single characters are one token (as jieba
// does without HMM); any other character (punctuation, space, kana, emoji) is a token of
// its own. Unknown words are not recognised: without the HMM they fall apart into single
// characters, whose edges are all boundaries.
//
// Extra words (a keyword set's own keywords) extend the dictionary for one segmenter: a
// word gets frequency max(its dictionary frequency, keyword_frequency), so that a keyword
// beats a split into other words of ordinary frequency (今天江门下大雨: 江门 / 下 / 大雨,
// not 江 / 门下 / 大雨) while a split into words much more frequent than it still wins
// (浙江 / 门户网站 cuts 江门; 新 / 会议 cuts 新会).
//
// Ownership: a dag_segmenter shares the base dictionary and owns its extra words.
// Thread safety: segmenters are immutable after construction; any number of threads may
// use one. Errors: none at run time; text that is not valid UTF-8 is cut at every bad byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "segment/dictionary.h"

namespace yuqing::segment {

class segmenter {
 public:
  virtual ~segmenter() = default;
  // The word boundaries of `text`: ascending byte offsets, 0 and text.size() included,
  // replacing the contents of `out`.
  virtual void boundaries(std::string_view text, std::vector<uint32_t>& out) const = 0;
  // Whether `word` is a word of the dictionary (an extra word included).
  virtual bool is_word(std::string_view word) const = 0;
  virtual const char* name() const = 0;
};

// The default frequency given to extra words (see README.md for how it was chosen).
inline constexpr uint32_t keyword_frequency = 500;

class dag_segmenter final : public segmenter {
 public:
  explicit dag_segmenter(std::shared_ptr<const dictionary> base,
                         const std::vector<std::string>& extra_words = {},
                         uint32_t extra_frequency = keyword_frequency);
  void boundaries(std::string_view text, std::vector<uint32_t>& out) const override;
  bool is_word(std::string_view word) const override;
  const char* name() const override { return "jieba-dag"; }
  // The words of `text`, for tests and tools.
  std::vector<std::string> cut(std::string_view text) const;

 private:
  // The cost of `word`: its log probability; nullopt when it is no word and no prefix of
  // one, 0 (with *prefix_only) for a prefix only. `extra` says whether extra words may
  // start here (their first characters are few).
  std::optional<float> cost(std::string_view word, bool extra, bool& prefix_only) const;
  void cut_run(std::string_view text, const std::vector<uint32_t>& chars,
               std::vector<uint32_t>& out) const;
  std::shared_ptr<const dictionary> base_;
  std::string arena_;  // the extra words, once
  std::unordered_map<std::string_view, dictionary::entry> extra_;  // extra words, prefixes
  // The first characters of the extra words, a bit per code point of plane 0 (others:
  // always looked up).
  std::vector<uint64_t> extra_first_ = std::vector<uint64_t>(1024, 0);
  bool extra_starts(char32_t c) const {
    return c >= 0x10000 || (extra_first_[c >> 6] >> (c & 63) & 1) != 0;
  }
  float unknown_cost_ = 0;  // log(1 / total): a character that is no word
};

// Whether a stretch of text lines up with words.
enum class alignment : uint8_t {
  unknown = 0,  // not computed (no dictionary, a regex-only hit, `boundary: off`)
  word = 1,     // both ends are word boundaries, or the stretch is a word within a
                // compound word whose rest is words of the dictionary (江门 in 江门市,
                // 信访 in 信访局: the segmenter keeps such compounds whole)
  cut = 2,      // an end falls inside a word
};
const char* to_string(alignment a);  // "", "word", "cut"

// The alignment of bytes [begin, end) of `text`, found by segmenting only a window of
// `window_chars` characters on either side of it (not the whole text).
alignment align(const segmenter& seg, std::string_view text, uint32_t begin, uint32_t end,
                size_t window_chars = 6);

}  // namespace yuqing::segment
