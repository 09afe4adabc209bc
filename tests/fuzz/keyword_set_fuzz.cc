// Fuzz target: the keyword-set loader and compiler, with the alert rules checked as the
// daemon checks them (sets/checks.h). Any input must come back as a set or as diagnostics
// with a position, never a crash; a set that compiles is matched against the input itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "matchers/matcher.h"
#include "sets/checks.h"

using namespace yuqing::matchers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // sets are small; keep each run fast
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_keyword_set(yaml, "fuzz.yaml");
  if (!parsed.set) {
    if (parsed.diagnostics.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  auto compiled = compiled_set::compile(std::move(*parsed.set), yuqing::sets::checked_options());
  if (!compiled.set) {
    if (compiled.diagnostics.empty()) std::abort();
    return 0;
  }
  std::vector<hit> hits;
  compiled.set->match({yaml, std::string_view(yaml).substr(size / 2)}, hits);
  for (const auto& h : hits)
    for (const auto& s : h.spans)
      if (s.begin > s.end || s.end > (s.field == 0 ? size : size - size / 2)) std::abort();
  return 0;
}
