// Splitting the Markdown for chat webhooks, and their request bodies.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "briefing/briefing.h"

namespace yuqing::briefing {

std::optional<receiver_kind> parse_receiver(const std::string& s) {
  if (s == "wecom") return receiver_kind::wecom;
  if (s == "dingtalk") return receiver_kind::dingtalk;
  if (s == "feishu") return receiver_kind::feishu;
  if (s == "generic") return receiver_kind::generic;
  return std::nullopt;
}

const char* to_string(receiver_kind k) {
  switch (k) {
    case receiver_kind::wecom: return "wecom";
    case receiver_kind::dingtalk: return "dingtalk";
    case receiver_kind::feishu: return "feishu";
    case receiver_kind::generic: return "generic";
  }
  return "generic";
}

size_t byte_limit(receiver_kind k) {
  switch (k) {
    case receiver_kind::wecom: return 4096;
    case receiver_kind::dingtalk: return 20000;
    case receiver_kind::feishu: return 30000;
    case receiver_kind::generic: return 0;
  }
  return 0;
}

std::string part_header(size_t i, size_t n) {
  if (n <= 1) return "";
  return "（" + std::to_string(i) + "/" + std::to_string(n) + "）\n";
}

namespace {

// The longest prefix of s (from `from`) of at most `max` bytes that ends on a UTF-8
// character boundary (at least one character, whatever its size, when max < 4).
size_t utf8_cut(const std::string& s, size_t from, size_t max) {
  size_t end = std::min(s.size(), from + max);
  while (end > from && end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  if (end == from) {  // max is smaller than the character: take it whole
    end = from + 1;
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
  }
  return end;
}

// Sections: a heading line ("#...") and the lines up to the next heading; each a list of
// lines with their '\n'.
std::vector<std::vector<std::string>> sections_of(const std::string& md) {
  std::vector<std::vector<std::string>> out;
  size_t i = 0;
  while (i < md.size()) {
    size_t e = md.find('\n', i);
    e = e == std::string::npos ? md.size() : e + 1;
    std::string line = md.substr(i, e - i);
    if (out.empty() || line[0] == '#') out.emplace_back();
    out.back().push_back(std::move(line));
    i = e;
  }
  return out;
}

std::vector<std::string> split_with_budget(const std::string& md, size_t budget) {
  std::vector<std::string> parts;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) parts.push_back(std::move(cur));
    cur.clear();
  };
  for (const auto& sec : sections_of(md)) {
    size_t size = 0;
    for (const auto& l : sec) size += l.size();
    if (cur.size() + size <= budget) {  // the whole section fits here
      for (const auto& l : sec) cur += l;
      continue;
    }
    if (size <= budget) {  // it fits in a part of its own: start one at the heading
      flush();
      for (const auto& l : sec) cur += l;
      continue;
    }
    for (const auto& l : sec) {  // larger than a part: line by line
      if (cur.size() + l.size() <= budget) {
        cur += l;
        continue;
      }
      flush();
      for (size_t from = 0; from < l.size();) {  // a line longer than a part: cut inside
        if (l.size() - from <= budget) {
          cur = l.substr(from);
          break;
        }
        const size_t end = utf8_cut(l, from, budget);
        parts.push_back(l.substr(from, end - from));
        from = end;
      }
    }
  }
  flush();
  return parts;
}

}  // namespace

std::vector<std::string> split(const std::string& markdown, size_t limit) {
  if (limit == 0 || markdown.size() <= limit) return {markdown};
  // Room for the numbering line: assume as many digits as the count has, and again if a
  // split gives more parts than assumed.
  size_t digits = 1;
  for (;;) {
    const std::string widest = part_header(std::stoull(std::string(digits, '9')), std::stoull(std::string(digits, '9')));
    const size_t budget = limit > widest.size() + 4 ? limit - widest.size() : 4;
    auto parts = split_with_budget(markdown, budget);
    if (std::to_string(parts.size()).size() > digits) {
      ++digits;
      continue;
    }
    for (size_t i = 0; i < parts.size(); ++i) parts[i] = part_header(i + 1, parts.size()) + parts[i];
    return parts;
  }
}

std::vector<std::string> webhook_bodies(receiver_kind k, const std::string& title, const std::string& markdown,
                                        const std::string& json) {
  const auto dump = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  if (k == receiver_kind::generic) return {json};
  std::vector<std::string> bodies;
  if (k == receiver_kind::wecom || k == receiver_kind::dingtalk) {
    const auto parts = split(markdown, byte_limit(k));
    for (size_t i = 0; i < parts.size(); ++i) {
      if (k == receiver_kind::wecom) {
        bodies.push_back(dump({{"msgtype", "markdown"}, {"markdown", {{"content", parts[i]}}}}));
      } else {
        const std::string t = parts.size() > 1 ? title + "（" + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + "）" : title;
        bodies.push_back(dump({{"msgtype", "markdown"}, {"markdown", {{"title", t}, {"text", parts[i]}}}}));
      }
    }
    return bodies;
  }
  // 飞书: the limit holds for the whole body, which adds to each line; split tighter until
  // every body fits.
  const size_t limit = byte_limit(k);
  size_t budget = limit;
  for (;;) {
    bodies.clear();
    const auto parts = split(markdown, budget);
    size_t worst = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      nlohmann::json lines = nlohmann::json::array();
      const std::string& p = parts[i];
      for (size_t a = 0; a < p.size();) {
        size_t e = p.find('\n', a);
        const bool last = e == std::string::npos;
        if (last) e = p.size();
        lines.push_back(nlohmann::json::array({{{"tag", "text"}, {"text", p.substr(a, e - a)}}}));
        a = last ? p.size() : e + 1;
      }
      const std::string t = parts.size() > 1 ? title + "（" + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + "）" : title;
      bodies.push_back(dump({{"msg_type", "post"},
                             {"content", {{"post", {{"zh_cn", {{"title", t}, {"content", lines}}}}}}}}));
      worst = std::max(worst, bodies.back().size());
    }
    if (worst <= limit || budget < 1024) return bodies;
    budget -= std::min(budget - 512, worst - limit + 256);
  }
}

}  // namespace yuqing::briefing
