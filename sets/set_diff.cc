#include "sets/set_diff.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace yuqing::sets {

namespace {

using lines = std::vector<std::string_view>;

lines split_lines(std::string_view s) {
  lines out;
  for (size_t at = 0; at < s.size();) {
    const size_t nl = s.find('\n', at);
    const size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
    out.push_back(s.substr(at, end - at));
    at = end;
  }
  return out;
}

enum class op : char { keep = ' ', add = '+', del = '-' };
struct edit {
  op kind;
  size_t a, b;  // line of `from` (keep, del) and of `to` (keep, add)
};

// The shortest edit script from a to b (Myers), or nullopt past max_d edits. Each step d
// keeps its slice k in [-d, d] of the furthest-reaching x, for the walk back.
std::optional<std::vector<edit>> myers(const lines& a, const lines& b, size_t max_d) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  const int limit = std::min(n + m, static_cast<int>(max_d));
  const int off = n + m + 1;
  std::vector<int> v(2 * static_cast<size_t>(off) + 1, 0);
  std::vector<std::vector<int>> trace;
  for (int d = 0; d <= limit; ++d) {
    trace.emplace_back(v.begin() + off - d, v.begin() + off + d + 1);
    for (int k = -d; k <= d; k += 2) {
      int x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
      int y = x - k;
      while (x < n && y < m && a[x] == b[y]) ++x, ++y;
      v[off + k] = x;
      if (x < n || y < m) continue;
      // Walk back from (n, m) through the kept slices.
      std::vector<edit> out;
      for (int e = d; e >= 0; --e) {
        const auto& s = trace[e];
        const int kk = x - y;
        int px = 0, py = 0;
        if (e > 0) {
          const auto at = [&](int i) { return s[static_cast<size_t>(i + e)]; };
          const int pk = (kk == -e || (kk != e && at(kk - 1) < at(kk + 1))) ? kk + 1 : kk - 1;
          px = at(pk);
          py = px - pk;
        }
        for (; x > px && y > py; --x, --y) out.push_back({op::keep, size_t(x - 1), size_t(y - 1)});
        if (e > 0) out.push_back(x == px ? edit{op::add, size_t(x), size_t(y - 1)} : edit{op::del, size_t(x - 1), size_t(y)});
        x = px;
        y = py;
      }
      std::reverse(out.begin(), out.end());
      return out;
    }
  }
  return std::nullopt;
}

// The script over the whole texts: common head and tail kept, Myers (or a replacement of
// everything) in between.
std::vector<edit> script(const lines& a, const lines& b, size_t max_edits) {
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  const lines ma(a.begin() + head, a.end() - tail), mb(b.begin() + head, b.end() - tail);
  std::vector<edit> out;
  for (size_t i = 0; i < head; ++i) out.push_back({op::keep, i, i});
  if (auto mid = myers(ma, mb, max_edits)) {
    for (auto e : *mid) out.push_back({e.kind, e.a + head, e.b + head});
  } else {
    for (size_t i = 0; i < ma.size(); ++i) out.push_back({op::del, head + i, head});
    for (size_t i = 0; i < mb.size(); ++i) out.push_back({op::add, head + ma.size(), head + i});
  }
  for (size_t i = 0; i < tail; ++i) out.push_back({op::keep, a.size() - tail + i, b.size() - tail + i});
  return out;
}

std::string range(size_t start, size_t len) {
  // GNU's form: a one-line range is its line; an empty one names the line before it.
  const size_t first = len == 0 ? start : start + 1;
  return len == 1 ? std::to_string(first) : std::to_string(first) + "," + std::to_string(len);
}

void put_line(std::string& out, char prefix, std::string_view line) {
  out += prefix;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

line_diff unified_diff(const std::string& from, const std::string& to, const std::string& from_label,
                       const std::string& to_label, size_t context, size_t max_edits) {
  const lines a = split_lines(from), b = split_lines(to);
  const std::vector<edit> es = script(a, b, max_edits);
  line_diff out;
  for (size_t i = 0; i < es.size();) {
    if (es[i].kind == op::keep) {
      ++i;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` after the last change
    // that lies within 2·context kept lines of the one before it.
    const size_t begin = i >= context ? i - context : 0;
    size_t end = i, kept = 0;
    for (size_t j = i; j < es.size() && kept <= 2 * context; ++j) {
      if (es[j].kind == op::keep) {
        ++kept;
      } else {
        kept = 0;
        end = j + 1;
      }
    }
    const size_t stop = std::min(es.size(), end + context);
    size_t a_len = 0, b_len = 0;
    for (size_t j = begin; j < stop; ++j) {
      a_len += es[j].kind != op::add;
      b_len += es[j].kind != op::del;
    }
    out.unified += "@@ -" + range(es[begin].a, a_len) + " +" + range(es[begin].b, b_len) + " @@\n";
    for (size_t j = begin; j < stop; ++j) {
      const auto& e = es[j];
      put_line(out.unified, static_cast<char>(e.kind), e.kind == op::add ? b[e.b] : a[e.a]);
      out.added += e.kind == op::add;
      out.removed += e.kind == op::del;
    }
    i = stop;
  }
  if (!out.unified.empty()) out.unified = "--- " + from_label + "\n+++ " + to_label + "\n" + out.unified;
  return out;
}

}  // namespace yuqing::sets
