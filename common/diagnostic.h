// common/diagnostic: a problem found in a file a person wrote (a keyword set, its alert
// rules), with the place to fix it: file, line, column and rule. Modelled on Falco's rule
// load results: errors and warnings in one list, printable as text or JSON.
//
// Also the severity a keyword rule gives its hits: the matcher sets it, alert rules filter
// on it; it is here because neither of them may use the other.
//
// Pure functions, any thread, no exceptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yuqing::common {

struct source_pos {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  bool operator==(const source_pos&) const = default;
};

struct diagnostic {
  std::string file;
  source_pos pos;
  std::string rule;  // rule id, empty for set-level problems
  std::string message;
  bool warning = false;

  std::string to_text() const;  // "FILE:LINE:COL: error: [rule R] MESSAGE"
};

size_t error_count(const std::vector<diagnostic>& diagnostics);

// `text` quoted for a diagnostic: its first line, at most 64 bytes (cut at a character
// boundary, "…" where cut), so that a message never carries more of a file than its token.
std::string quote_token(std::string_view text);

// How grave a keyword rule's hits are (the set file's `severity`, an alert's `min_severity`).
enum class severity { info = 0, warning = 1, critical = 2 };
const char* to_string(severity s);
std::optional<severity> parse_severity(std::string_view s);

}  // namespace yuqing::common
