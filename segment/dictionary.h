// dictionary: a word list with frequencies, in the format of jieba's dict.txt ("word freq
// [tag]" per line), as Debian's python3-jieba ships it
// (/usr/lib/python3/dist-packages/jieba/dict.txt: 349,046 words, 5 MB).
//
// Every prefix of a word is kept too (with frequency 0), so that a segmenter walking a
// text knows when no longer word can start at a position (jieba's prefix dictionary).
//
// Ownership: immutable after load(); share it with shared_ptr. Thread safety: any number
// of threads may read it. Memory: about 40 MB for jieba's list (words, prefixes, hash).
//
// Errors: load() returns an error naming the file when it cannot be read or holds no word;
// malformed lines (no frequency, a frequency that is not a number) are skipped and counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/result.h"

namespace yuqing::segment {

// Where Debian's python3-jieba puts the dictionary.
inline constexpr const char* jieba_dictionary_path = "/usr/lib/python3/dist-packages/jieba/dict.txt";

class dictionary {
 public:
  static result<std::shared_ptr<const dictionary>> load(const std::filesystem::path& file);
  // The process-wide dictionary: jieba's (or $YUQING_SEGMENT_DICT), loaded on first use,
  // once; null when it cannot be read (`why` says why). Thread-safe.
  static std::shared_ptr<const dictionary> shared(std::string* why = nullptr);

  // The frequency of `word` (> 0), 0 when it is only the prefix of a word, nullopt when it
  // is neither.
  std::optional<uint32_t> find(std::string_view word) const {
    const auto it = words_.find(word);
    if (it == words_.end()) return std::nullopt;
    return it->second.freq;
  }
  // The same with log(freq / total) of a word (0 for a prefix only): the segmenter's cost.
  struct entry {
    uint32_t freq = 0;
    float log_p = 0;
  };
  const entry* lookup(std::string_view word) const {
    const auto it = words_.find(word);
    return it == words_.end() ? nullptr : &it->second;
  }
  double log_total() const { return log_total_; }  // log of the sum of the frequencies
  size_t word_count() const { return word_count_; }
  size_t skipped_lines() const { return skipped_; }

  dictionary(const dictionary&) = delete;
  dictionary& operator=(const dictionary&) = delete;
  dictionary() = default;

 private:
  std::string arena_;  // every word, once; the map's keys point into it
  std::unordered_map<std::string_view, entry> words_;
  double log_total_ = 0;
  size_t word_count_ = 0;
  size_t skipped_ = 0;
};

}  // namespace yuqing::segment
