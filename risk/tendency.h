// tendency: 情感倾向 of a message from word lists the customer supplies. yuqing ships no
// sentiment lexicon (the ones around carry licences that forbid redistribution or
// commercial use); without lists every tendency is `unknown`, never guessed.
//
// The lists (format in risk/README.md): a directory with negative.txt and positive.txt
// (one word a line), and optional negation.txt (one word a line) and degree.txt ("word
// weight" a line, weight a decimal in (0, 10]). '#' starts a comment; blank lines are
// skipped; UTF-8 only.
//
// Operation: the text is folded (full-width ASCII to half-width, Latin to lower case) and
// scanned left to right, taking at each position the longest word of any list. A sentiment
// word counts +1 (positive) or -1 (negative), times the degree words and flipped by each
// negation word met since the last sentiment word or clause break (，。！？；,.!?;、 and
// line breaks) and at most `negation_reach` characters before it: 不满意 is negative
// (不 + 满意), 并不好 negative, 不是不好 positive. A message is negative when its sum is at
// most -threshold, positive at least +threshold, else neutral.
//
// Threads: a lexicon is immutable once loaded; assess() is a pure function, callable from
// any thread. Errors: load() returns every problem with file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/result.h"

namespace yuqing::risk {

enum class tendency { unknown, negative, neutral, positive };
const char* to_string(tendency t);   // unknown, negative, neutral, positive
const char* to_chinese(tendency t);  // 未知, 负面, 中性, 正面

// One problem in a list file; line and column count from 1 (column in characters).
struct lexicon_problem {
  std::string file;
  int line = 0, column = 0;
  std::string what;
  std::string text() const;  // "FILE:LINE:COLUMN: what"
};

class lexicon {
 public:
  enum class kind : uint8_t { negative, positive, negation, degree };
  struct entry {
    kind k;
    double weight = 1;  // degree words
  };

  // Loads the lists of `dir`. On failure, every problem found (one per line of the error
  // message, each "FILE:LINE:COLUMN: what"); `problems`, when given, gets them as records.
  static result<std::shared_ptr<const lexicon>> load(const std::filesystem::path& dir,
                                                     std::vector<lexicon_problem>* problems = nullptr);

  size_t size(kind k) const;
  const entry* find(std::string_view folded_word) const;
  size_t longest_chars() const { return longest_; }

  // Tuning (defaults fit short posts).
  double threshold = 0.5;
  size_t negation_reach = 6;  // characters between a negation word and its sentiment word

 private:
  friend struct lexicon_loader;
  std::unordered_map<std::string, entry> words_;  // folded word -> entry
  size_t counts_[4] = {0, 0, 0, 0};
  size_t longest_ = 0;
};

// A message's tendency, with the words that decided it.
struct assessment {
  tendency t = tendency::unknown;
  double score = 0;                   // sum over the sentiment words found
  std::vector<std::string> evidence;  // e.g. "不满意:-1", "非常好:+2"
};

// The tendency of `text` (every text field of a message, joined). lex == nullptr: unknown.
assessment assess(const lexicon* lex, std::string_view text);

// Full-width ASCII to half-width and ASCII letters to lower case (how words and texts are
// compared).
std::string fold(std::string_view text);

}  // namespace yuqing::risk
