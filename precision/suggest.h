// suggest: exclusions for a rule with false verdicts, ranked after SpamAssassin's S/O ratio
// and measured by a backtest over the stored messages (precision/README.md explains it).
//
// Operation: suggest() reads the rule's judged hits (verdicts relevant and false), their
// stored messages and spans, and collects two kinds of candidates:
//   allow  the matched text with 1 to `max_context` characters of its own word run before
//          and/or after it (浙江门户 around 江门): added to the set's `allow` list, it
//          suppresses the keyword where it lies inside that phrase;
//   none   a word (two or three CJK characters, or a Latin word) within `window`
//          characters of the matched text: added to the rule's `none`, any occurrence in the
//          message suppresses the rule.
// Each candidate gets F (false hits holding it), R (relevant hits holding it), spam% =
// F / false hits, ham% = R / relevant hits, S/O = spam% / (spam% + ham%), and the score
// S/O × spam%. Candidates with S/O > 0.5 are ranked by score (then fewer relevant hits,
// then shorter text); of candidates that cover exactly the same judged hits only the first
// is kept. The best 4 × `max_suggestions` are then backtested: the set in force with the
// candidate added is compiled and run over the stored message of every hit of the rule in
// the period; the counts are of the messages it would no longer hit: false (judged false),
// relevant (judged relevant) and in all. A candidate that removes no false hit there is
// dropped; the first `max_suggestions` of the rest are the suggestions. Words that overlap
// an occurrence of one of the rule's keywords are not candidates.
//
// apply_suggestion() writes a suggestion into the set file (a textual edit located with
// yaml-cpp, so comments and layout stay), checks that the result parses and holds it, and
// replaces the file atomically (a temporary file renamed over it); the reload that follows
// makes it a new set version.
//
// Concurrency: plain functions (the store is thread-safe). Errors: the store's, a set that
// does not compile, a file that cannot be edited, as results; the file is left unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/result.h"
#include "matchers/matcher.h"
#include "precision/verdicts.h"
#include "storage/store.h"

namespace yuqing::precision {

struct suggestion {
  std::string kind;  // "allow" (the set's allow list) or "none" (the rule's none list)
  std::string text;
  std::string set, rule;
  uint64_t false_with = 0, relevant_with = 0;  // F and R: judged hits holding the text
  double spam = 0, ham = 0, so = 0, score = 0;
  // The backtest: hits of the rule in the period it would remove, by verdict and in all.
  bool measured = false;
  uint64_t false_removed = 0, relevant_lost = 0, undetermined_removed = 0, hits_removed = 0;
  uint64_t hits_scanned = 0;
  std::string example;  // a false hit's text around the match, the candidate in 【】
};

struct suggest_options {
  int64_t from_ms = 0;  // hits (for the backtest) since
  size_t max_suggestions = 5;
  int max_context = 3;  // allow: characters of context on each side
  int window = 20;      // none: characters on each side of the match
  size_t max_scan = 20000;  // hits of the rule backtested at most
};

struct suggest_result {
  std::string set, rule, set_version;
  uint64_t judged_false = 0, judged_relevant = 0;
  uint64_t not_stored = 0;  // judged hits whose message is past retention (not counted)
  std::vector<suggestion> suggestions;
  std::string to_json() const;
};

// `running` is the set in force (the candidates are made from its definition).
result<suggest_result> suggest(const storage::store& store, const verdict_book& book,
                               const matchers::compiled_set& running, const std::string& rule,
                               const suggest_options& options);

// Writes `s` into the set file `file` (see above); returns the new file content.
result<std::string> apply_suggestion(const std::filesystem::path& file, const suggestion& s);

}  // namespace yuqing::precision
