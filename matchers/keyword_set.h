// keyword_set: the model of one keyword-set file and its parser.
//
// A set is one YAML file (schema in matchers/README.md): id, name, topic, plan_item,
// normalize, whole_words, allow, rules (id, any, all, none, within, regex, severity, tags)
// and alerts. Only `id` and `rules` are required. The `alerts` section belongs to the alert
// rules (alerting/rules.h): this parser accepts the key and leaves its content to the
// section checks its caller passes (sets/checks.h passes the alert rules' on every path
// that loads a set), run on what could be read even when the keyword part has errors, so
// that a file's errors come all at once.
//
// Errors: parsing never throws. It returns a load_result in the manner of Falco's: every
// error and warning with file, line, column and rule id, printable as text or JSON. A
// result with errors has no set.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.h"

namespace yuqing::matchers {

// The vocabulary of diagnostics and of a rule's severity, shared with the alert rules.
using common::diagnostic;
using common::quote_token;
using common::severity;
using common::source_pos;
using common::to_string;

// A keyword as written, with its position in the file.
struct term {
  std::string text;
  source_pos pos;
};

// What word boundaries do to a rule's hits (see matchers/boundary.h): score (default) marks
// each hit `word` or `cut`; word also drops the hits that cut a word; off computes nothing.
enum class boundary_mode : uint8_t { score = 0, word = 1, off = 2 };
const char* to_string(boundary_mode m);

struct rule {
  std::string id;
  source_pos pos;
  std::vector<term> any;                // at least one must occur (when not empty)
  std::vector<std::vector<term>> all;   // each group must occur somewhere
  std::vector<term> none;               // any occurrence suppresses the rule
  int within = 0;                       // >0: the parts lie within this many characters
  std::optional<term> regex;            // Hyperscan expression over the normalized text
  severity level = severity::warning;
  std::vector<std::string> tags;
  boundary_mode boundary = boundary_mode::score;
};

struct keyword_set {
  std::string id;
  std::string name;
  std::string topic;     // defaults to id
  int plan_item = 0;     // 0: none
  uint32_t normalize = 0;
  bool whole_words = true;  // Latin keywords match whole words
  std::vector<term> allow;
  std::vector<rule> rules;
  // A rule whose precision from analysts' verdicts falls under this (0: never) once it has
  // precision_min_judged relevant or false verdicts needs tuning (yuqing::precision).
  double precision_threshold = 0;
  uint64_t precision_min_judged = 10;
  std::string file;
  std::string version;   // content hash (16 hex digits)
  std::string text;      // the file as parsed (its content hash is `version`)
};

struct load_result {
  std::optional<keyword_set> set;
  std::vector<diagnostic> diagnostics;

  bool ok() const;  // a set and no error
  size_t error_count() const;
  std::string to_text() const;
  std::string to_json() const;
};

// Checks of a section this library does not read, given the set as far as it was read
// (its text, file and the rules that could be read); their diagnostics join the parser's.
using section_check = std::function<std::vector<diagnostic>(const keyword_set&)>;

load_result parse_keyword_set(const std::string& yaml, const std::string& file,
                              const section_check& checks = {});
load_result load_keyword_set_file(const std::filesystem::path& file, const section_check& checks = {});

// The id a set file declares, read even when the file has other errors; nullopt when it
// cannot be read, its YAML cannot be parsed or it declares none.
std::optional<std::string> declared_set_id(const std::filesystem::path& file);

// The *.yaml and *.yml entries of a directory whatever their type (names starting with
// '.' left out: editors' lock files, a ConfigMap volume's internals), sorted; a file path
// gives itself. refused_set_file() says which of them must not be read.
std::vector<std::filesystem::path> keyword_set_files(const std::filesystem::path& dir_or_file);

// Why `file`, an entry of directory `dir`, must not be read as a set (empty: it may be):
// only a regular file is read, or a link whose target is a regular file inside `dir` (a
// ConfigMap volume's links). A directory, a device, a dangling link or a link leading out
// of `dir` (to /etc/shadow, say) is refused without being opened.
std::string refused_set_file(const std::filesystem::path& dir, const std::filesystem::path& file);

}  // namespace yuqing::matchers
