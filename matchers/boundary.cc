#include "matchers/boundary.h"

#include "matchers/matcher.h"
#include "segment/dictionary.h"

namespace yuqing::matchers {

namespace {

std::shared_ptr<const boundary_index> build_index(const keyword_set& set, const normalizer& norm) {
  auto ix = std::make_shared<boundary_index>();
  std::vector<std::string> words;
  auto word = [&](const term& t) {
    words.push_back(t.text);
    if (auto n = norm.normalize(t.text); n != t.text) words.push_back(std::move(n));
  };
  for (const auto& t : set.allow) word(t);
  bool wanted = false;
  for (uint32_t r = 0; r < set.rules.size(); ++r) {
    const auto& rl = set.rules[r];
    boundary_index::rule_info info;
    info.mode = rl.boundary;
    wanted |= rl.boundary != boundary_mode::off;
    auto part = [&](const term& t, int p) {
      word(t);
      ix->parts[norm.normalize(t.text)].emplace_back(r, p);
    };
    if (!rl.any.empty()) info.required |= 1;
    for (const auto& t : rl.any) part(t, 0);
    for (size_t g = 0; g < rl.all.size(); ++g) {
      info.required |= uint64_t{1} << (g + 1);
      for (const auto& t : rl.all[g]) part(t, static_cast<int>(g + 1));
    }
    for (const auto& t : rl.none) word(t);
    if (rl.regex) {
      info.regex_part = static_cast<int>(rl.all.size() + 1);
      info.required |= uint64_t{1} << info.regex_part;
    }
    ix->rules.push_back(info);
    ix->rule_by_id.emplace(rl.id, r);
  }
  if (wanted) {
    if (auto dict = segment::dictionary::shared())
      ix->segmenter = std::make_unique<const segment::dag_segmenter>(std::move(dict), words);
  }
  ix->active = wanted && ix->segmenter != nullptr;
  return ix;
}

// Marks `h` word or cut; with `boundary: word`, drops its spans that cut a word. False
// when the hit must go.
bool check_hit(const boundary_index& ix, const normalizer& norm,
               std::span<const std::string_view> fields, hit& h) {
  const auto r = ix.rule_by_id.find(h.rule_id);
  if (r == ix.rule_by_id.end()) return true;
  const auto& info = ix.rules[r->second];
  if (info.mode == boundary_mode::off) return true;
  uint64_t mask = 0;
  thread_local std::vector<char> aligned;
  aligned.assign(h.spans.size(), 0);
  const bool filter = info.mode == boundary_mode::word;
  const bool any_only = info.required == 1;  // every span is an any keyword: no lookup
  for (size_t k = 0; k < h.spans.size(); ++k) {
    // Marking only: the first spans that satisfy the rule settle it.
    if (!filter && (mask & info.required) == info.required) break;
    const auto& s = h.spans[k];
    if (s.field >= fields.size()) continue;
    const std::string_view text = fields[s.field];
    if (segment::align(*ix.segmenter, text, s.begin, s.end) != segment::alignment::word) continue;
    aligned[k] = 1;
    if (any_only) {
      mask |= 1;
      continue;
    }
    const auto p = ix.parts.find(norm.normalize(text.substr(s.begin, s.end - s.begin)));
    bool known = false;
    if (p != ix.parts.end()) {
      for (const auto& [rule, part] : p->second)
        if (rule == r->second) {
          mask |= uint64_t{1} << part;
          known = true;
        }
    }
    // Not one of the rule's literals as written: the regex's span, or a literal the
    // normalizer maps otherwise (then it may stand for any part: kept).
    if (!known) mask |= info.regex_part >= 0 ? uint64_t{1} << info.regex_part : info.required;
  }
  const bool word = (mask & info.required) == info.required;
  h.boundary = word ? segment::alignment::word : segment::alignment::cut;
  if (!filter) return true;
  if (!word) return false;
  size_t w = 0;
  for (size_t k = 0; k < h.spans.size(); ++k)
    if (aligned[k]) h.spans[w++] = h.spans[k];
  h.spans.resize(w);
  return true;
}

}  // namespace

const boundary_index& compiled_set::boundaries() const {
  std::call_once(boundary_once_, [this] { boundary_ = build_index(set_, *norm_); });
  return *boundary_;
}

void compiled_set::check_boundaries(std::span<const std::string_view> fields,
                                    std::span<const size_t> begin, std::vector<hit>& out,
                                    size_t first_hit, std::vector<size_t>& ends,
                                    size_t first_end) const {
  if (out.size() == first_hit) return;
  const boundary_index& ix = boundaries();
  if (!ix.active) return;
  size_t w = first_hit, from = first_hit;
  for (size_t m = 0; first_end + m < ends.size(); ++m) {
    const size_t to = ends[first_end + m];
    const auto message = fields.subspan(begin[m], begin[m + 1] - begin[m]);
    for (size_t k = from; k < to; ++k) {
      if (!check_hit(ix, *norm_, message, out[k])) continue;
      if (w != k) out[w] = std::move(out[k]);
      ++w;
    }
    from = to;
    ends[first_end + m] = w;
  }
  out.resize(w);
}

}  // namespace yuqing::matchers
