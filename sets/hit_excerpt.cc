#include "sets/hit_excerpt.h"

#include <algorithm>

namespace yuqing::sets {

namespace {

using nlohmann::json;

bool continuation(std::string_view s, size_t at) {
  return at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
}

}  // namespace

json excerpt_pieces(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>> spans, size_t from,
                    size_t to) {
  std::sort(spans.begin(), spans.end());
  json out = json::array();
  size_t at = from;
  for (auto [b, e] : spans) {
    const size_t begin = std::clamp<size_t>(b, at, to), end = std::clamp<size_t>(e, begin, to);
    if (begin > at) out.push_back({{"text", std::string(text.substr(at, begin - at))}, {"hit", false}});
    if (end > begin) out.push_back({{"text", std::string(text.substr(begin, end - begin))}, {"hit", true}});
    at = std::max(at, end);
  }
  if (to > at) out.push_back({{"text", std::string(text.substr(at, to - at))}, {"hit", false}});
  return out;
}

json hit_excerpt_json(const storage::store& store, const storage::hit_record& h, size_t context) {
  auto m = store.message(h.message_key);
  if (!m || !m->has_value()) return nullptr;
  const auto& msg = **m;
  const std::string field = h.spans.empty() ? "" : h.spans.front().field;
  std::string_view text;
  for (const auto& [name, value] : msg.text)
    if (name == field || (field.empty() && text.empty())) text = value;
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  size_t first = text.size(), last = 0;
  for (const auto& s : h.spans) {
    if (s.field != field || s.end > text.size() || s.begin > s.end) continue;
    spans.emplace_back(s.begin, s.end);
    first = std::min<size_t>(first, s.begin);
    last = std::max<size_t>(last, s.end);
  }
  if (spans.empty()) first = last = 0;
  size_t from = first > context ? first - context : 0, to = std::min(text.size(), last + context);
  while (continuation(text, from)) --from;
  while (continuation(text, to)) ++to;
  return {{"region", msg.region},
          {"url", msg.url},
          {"source", msg.source_name},
          {"field", field},
          {"excerpt", excerpt_pieces(text, std::move(spans), from, to)},
          {"cut_before", from > 0},
          {"cut_after", to < text.size()}};
}

}  // namespace yuqing::sets
