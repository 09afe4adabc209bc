#include "common/diagnostic.h"

#include <algorithm>

namespace yuqing::common {

std::string diagnostic::to_text() const {
  std::string s = file;
  if (pos.line) s += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  s += warning ? ": warning: " : ": error: ";
  if (!rule.empty()) s += "[rule " + rule + "] ";
  return s + message;
}

size_t error_count(const std::vector<diagnostic>& diagnostics) {
  return std::count_if(diagnostics.begin(), diagnostics.end(),
                       [](const diagnostic& d) { return !d.warning; });
}

std::string quote_token(std::string_view text) {
  constexpr size_t max_bytes = 64;
  std::string_view t = text.substr(0, text.find_first_of("\r\n"));
  const bool cut = t.size() < text.size() || t.size() > max_bytes;
  if (t.size() > max_bytes) {
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(t[end]) & 0xC0) == 0x80) --end;
    t = t.substr(0, end);
  }
  return "'" + std::string(t) + (cut ? "…'" : "'");
}

const char* to_string(severity s) {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "?";
}

std::optional<severity> parse_severity(std::string_view s) {
  if (s == "info") return severity::info;
  if (s == "warning") return severity::warning;
  if (s == "critical") return severity::critical;
  return std::nullopt;
}

}  // namespace yuqing::common
