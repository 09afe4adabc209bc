#include "matchers/set_checks.h"

#include <hs/hs.h>

#include <algorithm>
#include <cctype>

#include <regex>
#include <set>

#include "matchers/normalizer.h"

namespace yuqing::matchers {

namespace {

// The flags compiled_set::compile() gives regexes (matcher.cc).
constexpr unsigned regex_flags = HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST | HS_FLAG_DOTALL;

bool is_cjk_char(const std::string& s) {
  if (s.size() != 3 && s.size() != 4) return false;
  const auto c = static_cast<unsigned char>(s[0]);
  if (s.size() == 3) {  // U+3400..U+9FFF, U+F900..U+FAFF
    const char32_t cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF);
  }
  return c == 0xF0 && static_cast<unsigned char>(s[1]) >= 0xA0;  // U+20000..
}

bool is_latin_word(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

size_t line_offset(const std::string& yaml, int line) {
  size_t at = 0;
  for (int l = 1; l < line && at != std::string::npos; ++l) {
    at = yaml.find('\n', at);
    if (at != std::string::npos) ++at;
  }
  return at == std::string::npos ? yaml.size() : at;
}

source_pos position_of(const std::string& yaml, size_t offset) {
  source_pos p{1, 1};
  for (size_t i = 0; i < offset && i < yaml.size(); ++i) {
    if (yaml[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// The source bytes that one value byte of a double-quoted scalar's escape stands for.
size_t escape_length(const std::string& y, size_t j) {
  if (j + 1 >= y.size()) return 1;
  switch (y[j + 1]) {
    case 'x': return 4;
    case 'u': return 6;
    case 'U': return 10;
    default: return 2;
  }
}

class term_warnings {
 public:
  term_warnings(const keyword_set& set, const std::string& file, std::vector<diagnostic>& out)
      : set_(set), file_(file), out_(out) {
    try {
      norm_ = normalizer::get(set.normalize);
    } catch (const std::exception&) {
    }
  }
  std::string norm(const std::string& s) const { return norm_ ? norm_->normalize(s) : s; }
  void warn(const term& t, const std::string& rule, const std::string& msg) {
    out_.push_back({file_, t.pos, rule, msg, true});
  }
  // One keyword of any/all.
  void positive(const term& t, const rule& r, const std::set<std::string>& allowed) {
    if (is_cjk_char(t.text))
      warn(t, r.id, "keyword " + quote_token(t.text) +
                        " is one CJK character: it matches inside countless words (use a word, "
                        "or all: with context)");
    if (is_latin_word(t.text) && (t.text.size() == 1 || (!set_.whole_words && t.text.size() <= 3)))
      warn(t, r.id, "keyword " + quote_token(t.text) +
                        (t.text.size() == 1 ? " is a single Latin letter"
                                            : " is a short Latin word matched without word boundaries (whole_words: false)") +
                        ": it matches inside other words");
    if (allowed.count(norm(t.text)))
      warn(t, r.id, "keyword " + quote_token(t.text) +
                        " is also an allow phrase: every occurrence lies inside it, so it never hits");
  }
  void rule_terms(const rule& r, const std::set<std::string>& allowed) {
    std::set<std::string> positives;
    for (const auto& t : r.any) {
      positive(t, r, allowed);
      positives.insert(norm(t.text));
    }
    for (const auto& g : r.all)
      for (const auto& t : g) {
        positive(t, r, allowed);
        positives.insert(norm(t.text));
      }
    for (const auto& t : r.none)
      if (positives.count(norm(t.text)))
        warn(t, r.id, "keyword " + quote_token(t.text) +
                          " is both a keyword of the rule and in its none: the rule never fires on it");
  }

 private:
  const keyword_set& set_;
  const std::string& file_;
  std::vector<diagnostic>& out_;
  std::shared_ptr<const normalizer> norm_;
};

void check_regex(const rule& r, const std::string& yaml, const std::string& file,
                 std::vector<diagnostic>& out) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(r.regex->text.c_str(), regex_flags, &info, &err) == HS_SUCCESS) {
    std::free(info);
    return;
  }
  const std::string message = err->message;
  hs_free_compile_error(err);
  static const std::regex at_index("index ([0-9]+)");
  std::smatch m;
  source_pos pos = r.regex->pos;
  std::string where;
  if (std::regex_search(message, m, at_index)) {
    const size_t index = std::stoul(m[1]);
    pos = scalar_byte_position(yaml, r.regex->pos, index);
    where = " (character " + quote_token(r.regex->text.substr(index, 1)) + " of the regex)";
    if (index >= r.regex->text.size()) where = " (at the end of the regex)";
  }
  out.push_back({file, pos, r.id, "regex: " + message + where, false});
}

}  // namespace

source_pos scalar_byte_position(const std::string& yaml, source_pos at, size_t index) {
  if (at.line <= 0 || at.column <= 0) return at;
  size_t j = line_offset(yaml, at.line) + static_cast<size_t>(at.column - 1);
  if (j >= yaml.size()) return at;
  const char style = yaml[j];
  if (style == '|' || style == '>') {  // block: the lines below, their indentation dropped
    j = yaml.find('\n', j);
    if (j == std::string::npos) return at;
    ++j;
    const size_t indent = yaml.find_first_not_of(' ', j) - j;
    size_t left = index;
    while (j < yaml.size()) {
      j += std::min(indent, yaml.size() - j);
      const size_t nl = std::min(yaml.find('\n', j), yaml.size());
      if (left <= nl - j) return position_of(yaml, j + left);
      left -= nl - j + 1;  // the line and its line break
      j = nl + 1;
    }
    return at;
  }
  if (style == '\'' || style == '"') {
    ++j;
    for (size_t left = index; left > 0 && j < yaml.size(); --left) {
      if (style == '\'' && yaml[j] == '\'' && j + 1 < yaml.size() && yaml[j + 1] == '\'') j += 2;
      else if (style == '"' && yaml[j] == '\\') j += escape_length(yaml, j);
      else ++j;
    }
    return position_of(yaml, j);
  }
  return position_of(yaml, j + index);  // plain
}

void check_set(const keyword_set& set, const std::string& yaml, const std::string& file,
               std::vector<diagnostic>& out) {
  term_warnings w(set, file, out);
  std::set<std::string> allowed;
  for (const auto& t : set.allow) allowed.insert(w.norm(t.text));
  for (const auto& r : set.rules) {
    w.rule_terms(r, allowed);
    if (r.regex) check_regex(r, yaml, file, out);
  }
}

}  // namespace yuqing::matchers
