// set_diff: a unified line diff of two texts (two versions of a keyword-set file).
//
// Operation: Myers' O((N+M)·D) algorithm on the lines left after the common head and tail.
// Past `max_edits` differing lines the diff gives up on a shortest script and replaces the
// whole middle (still a correct diff, only longer), so that two unrelated files cost
// bounded time and memory. Lines compare with their line end; a last line without one is
// followed by "\ No newline at end of file", as GNU diff prints it.
//
// Threads: a pure function. Errors: none.
#pragma once

#include <cstddef>
#include <string>

namespace yuqing::sets {

struct line_diff {
  std::string unified;  // "--- from\n+++ to\n@@ -a,b +c,d @@\n..."; empty when equal
  size_t added = 0, removed = 0;  // lines
};

line_diff unified_diff(const std::string& from, const std::string& to, const std::string& from_label,
                       const std::string& to_label, size_t context = 3, size_t max_edits = 4000);

}  // namespace yuqing::sets
