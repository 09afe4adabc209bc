// keyword_set: the model of one keyword-set file and its parser.
//
// A set is one YAML file (schema in matchers/README.md): id, name, topic, plan_item,
// normalize, whole_words, allow, rules (id, any, all, none, within, regex, severity, tags)
// and alerts. Only `id` and `rules` are required.
//
// Errors: parsing never throws. It returns a load_result in the manner of Falco's: every
// error and warning with file, line, column and rule id, printable as text or JSON. A
// result with errors has no set.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace yuqing::matchers {

enum class severity { info = 0, warning = 1, critical = 2 };
const char* to_string(severity s);

struct source_pos {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  bool operator==(const source_pos&) const = default;
};

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

// Alert levels of the command center, lowest first.
enum class alert_level { blue = 0, yellow = 1, orange = 2, red = 3 };
const char* to_string(alert_level l);
std::optional<alert_level> parse_alert_level(const std::string& s);

// An alert rule of the set (validated here; the alerting component evaluates it):
//   immediate  a hit of at least min_severity
//   threshold  at least `count` matching messages within `window`
//   spike      at least min_count messages within `window` and `factor` times the rate of
//              the `baseline` window before it
//   spread     at least `count` distinct authors (or sources) within `window`
// Common: id (default "<kind>-<position>"), level (default yellow), rule (only hits of this
// keyword rule; default any rule of the set), resolve_after (how long the condition must
// stay clear before the alert resolves; default 10m).
struct alert_rule {
  std::string id;
  std::string kind;
  alert_level level = alert_level::yellow;
  std::string rule;
  severity min_severity = severity::critical;
  int64_t window_ms = 0;
  int64_t baseline_ms = 0;
  double factor = 0;
  uint64_t count = 0;  // threshold, spread; spike: min_count
  std::string distinct = "author";  // spread: author | source
  int64_t resolve_after_ms = 10 * 60 * 1000;
  source_pos pos;
};

// "90s", "10m", "24h", "7d" -> milliseconds; nullopt when malformed or not positive.
std::optional<int64_t> parse_duration(const std::string& s);

struct keyword_set {
  std::string id;
  std::string name;
  std::string topic;     // defaults to id
  int plan_item = 0;     // 0: none
  uint32_t normalize = 0;
  bool whole_words = true;  // Latin keywords match whole words
  std::vector<term> allow;
  std::vector<rule> rules;
  std::vector<alert_rule> alerts;
  std::string file;
  std::string version;   // content hash (16 hex digits)
  std::string text;      // the file as parsed (its content hash is `version`)
};

struct diagnostic {
  std::string file;
  source_pos pos;
  std::string rule;  // rule id, empty for set-level problems
  std::string message;
  bool warning = false;

  std::string to_text() const;  // "FILE:LINE:COL: error: [rule R] MESSAGE"
};

struct load_result {
  std::optional<keyword_set> set;
  std::vector<diagnostic> diagnostics;

  bool ok() const;  // a set and no error
  size_t error_count() const;
  std::string to_text() const;
  std::string to_json() const;
};

load_result parse_keyword_set(const std::string& yaml, const std::string& file);
load_result load_keyword_set_file(const std::filesystem::path& file);

// The *.yaml and *.yml entries of a directory whatever their type (names starting with
// '.' left out: editors' lock files, a ConfigMap volume's internals), sorted; a file path
// gives itself. refused_set_file() says which of them must not be read.
std::vector<std::filesystem::path> keyword_set_files(const std::filesystem::path& dir_or_file);

// Why `file`, an entry of directory `dir`, must not be read as a set (empty: it may be):
// only a regular file is read, or a link whose target is a regular file inside `dir` (a
// ConfigMap volume's links). A directory, a device, a dangling link or a link leading out
// of `dir` (to /etc/shadow, say) is refused without being opened.
std::string refused_set_file(const std::filesystem::path& dir, const std::filesystem::path& file);

// `text` quoted for a diagnostic: its first line, at most 64 bytes (cut at a character
// boundary, "…" where cut), so that a message never carries more of a file than its token.
std::string quote_token(std::string_view text);

}  // namespace yuqing::matchers
