#include "risk/tendency.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/utf8.h"
#include "matchers/normalizer.h"
#include "risk/text.h"

namespace yuqing::risk {

using detail::boundaries;

const char* to_string(tendency t) {
  switch (t) {
    case tendency::negative: return "negative";
    case tendency::neutral: return "neutral";
    case tendency::positive: return "positive";
    default: return "unknown";
  }
}

const char* to_chinese(tendency t) {
  switch (t) {
    case tendency::negative: return "负面";
    case tendency::neutral: return "中性";
    case tendency::positive: return "正面";
    default: return "未知";
  }
}

std::string lexicon_problem::text() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

std::string fold(std::string_view text) {
  static const auto n = matchers::normalizer::get(matchers::norm_width | matchers::norm_case | matchers::norm_t2s);
  return n->normalize(text);
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

// Reads the list files into a lexicon, gathering every problem.
struct lexicon_loader {
  lexicon& lex;
  std::vector<lexicon_problem>& problems;
  std::unordered_map<std::string, std::string> where;  // folded word -> "file:line"

  static const char* file_of(lexicon::kind k) {
    static const char* names[] = {"negative.txt", "positive.txt", "negation.txt", "degree.txt"};
    return names[static_cast<int>(k)];
  }

  void problem(const std::string& file, int line, int column, std::string what) {
    problems.push_back({file, line, column, std::move(what)});
  }

  // Column (in characters, from 1) of byte `pos` of `line`.
  static int column_of(std::string_view line, size_t pos) { return static_cast<int>(detail::chars(line, pos)) + 1; }

  // The first invalid UTF-8 byte of `line`, or npos.
  static size_t invalid_at(std::string_view line) {
    for (size_t i = 0; i < line.size();) {
      uint32_t cp;
      const int len = common::decode_utf8(line, i, cp);
      if (len <= 0) return i;
      i += static_cast<size_t>(len);
    }
    return std::string_view::npos;
  }

  void add(lexicon::kind k, const std::string& file, int line_no, int col, const std::string& word,
           double weight) {
    const std::string folded = fold(word);
    const std::string here = file + ":" + std::to_string(line_no);
    if (auto it = lex.words_.find(folded); it != lex.words_.end()) {
      if (it->second.k == k) return;  // listed twice in one file: harmless
      problem(file, line_no, col, "「" + word + "」 is already listed at " + where[folded] +
                                      " (a word belongs to one list)");
      return;
    }
    lex.words_[folded] = {k, weight};
    where[folded] = here;
    ++lex.counts_[static_cast<int>(k)];
    lex.longest_ = std::max(lex.longest_, boundaries(folded).size() - 1);
  }

  // One line of a file: "word", or "word weight" in degree.txt.
  void line(lexicon::kind k, const std::string& file, int line_no, std::string_view text) {
    if (line_no == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
    const std::string_view full = text;
    if (auto bad = invalid_at(full); bad != std::string_view::npos) {
      problem(file, line_no, column_of(full, bad), "invalid UTF-8");
      return;
    }
    if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    size_t b = 0;
    while (b < text.size() && is_space(text[b])) ++b;
    size_t e = text.size();
    while (e > b && is_space(text[e - 1])) --e;
    if (b == e) return;
    const std::string_view body = text.substr(b, e - b);
    const size_t gap = body.find_first_of(" \t");
    if (k != lexicon::kind::degree) {
      if (gap != std::string_view::npos)
        problem(file, line_no, column_of(full, b + gap), "a word may not contain spaces (one word a line)");
      else
        add(k, file, line_no, column_of(full, b), std::string(body), 1);
      return;
    }
    degree_line(file, line_no, full, b, body, gap);
  }

  void degree_line(const std::string& file, int line_no, std::string_view full, size_t b, std::string_view body,
                   size_t gap) {
    if (gap == std::string_view::npos) {
      problem(file, line_no, column_of(full, b + body.size()), "expected a weight after the word (\"word weight\")");
      return;
    }
    size_t w = gap;
    while (w < body.size() && is_space(body[w])) ++w;
    const std::string number(body.substr(w));
    double weight = 0;
    size_t used = 0;
    try {
      weight = std::stod(number, &used);
    } catch (...) {
      used = 0;
    }
    if (used != number.size() || number.empty() || !std::isfinite(weight)) {
      problem(file, line_no, column_of(full, b + w), "weight 「" + number + "」 is not a number");
      return;
    }
    if (weight <= 0 || weight > 10) {
      problem(file, line_no, column_of(full, b + w), "weight " + number + " is out of (0, 10]");
      return;
    }
    add(lexicon::kind::degree, file, line_no, column_of(full, b), std::string(body.substr(0, gap)), weight);
  }

  void file(lexicon::kind k, const std::filesystem::path& dir, bool required) {
    const auto path = dir / file_of(k);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      if (required) problem(path.string(), 0, 0, "missing (negative.txt and positive.txt are required)");
      return;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problem(path.string(), 0, 0, "cannot be read");
      return;
    }
    std::string text;
    int n = 0;
    while (std::getline(in, text)) line(k, path.string(), ++n, text);
  }
};

result<std::shared_ptr<const lexicon>> lexicon::load(const std::filesystem::path& dir,
                                                     std::vector<lexicon_problem>* out) {
  auto lex = std::make_shared<lexicon>();
  std::vector<lexicon_problem> problems;
  lexicon_loader loader{*lex, problems, {}};
  loader.file(kind::negative, dir, true);
  loader.file(kind::positive, dir, true);
  loader.file(kind::negation, dir, false);
  loader.file(kind::degree, dir, false);
  if (problems.empty() && lex->size(kind::negative) + lex->size(kind::positive) == 0)
    problems.push_back({(dir / "negative.txt").string(), 0, 0, "no sentiment word in negative.txt or positive.txt"});
  if (out) *out = problems;
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p.text();
    return error{msg};
  }
  return std::shared_ptr<const lexicon>(std::move(lex));
}

size_t lexicon::size(kind k) const { return counts_[static_cast<int>(k)]; }

const lexicon::entry* lexicon::find(std::string_view folded_word) const {
  auto it = words_.find(std::string(folded_word));
  return it == words_.end() ? nullptr : &it->second;
}

namespace {

bool clause_break(std::string_view ch) {
  static const std::string_view breaks[] = {"，", "。", "！", "？", "；", "、", ",", ".", "!", "?", ";", "\n", "：", ":"};
  for (auto b : breaks)
    if (ch == b) return true;
  return false;
}

std::string signed_text(double v) {
  std::ostringstream s;
  s << (v > 0 ? "+" : "") << v;
  return s.str();
}

}  // namespace

assessment assess(const lexicon* lex, std::string_view text) {
  assessment a;
  if (!lex) return a;
  const std::string t = fold(text);
  const auto b = boundaries(t);
  const size_t n = b.size() - 1;
  int negations = 0;
  double degree = 1;
  size_t modifier_from = n, modifier_end = 0;  // char index of the first pending modifier, end of the last
  for (size_t i = 0; i < n;) {
    const lexicon::entry* hit = nullptr;
    size_t j = std::min(n, i + lex->longest_chars());
    for (; j > i; --j)
      if ((hit = lex->find(std::string_view(t).substr(b[i], b[j] - b[i])))) break;
    if (!hit) {
      if (clause_break(std::string_view(t).substr(b[i], b[i + 1] - b[i]))) negations = 0, degree = 1, modifier_from = n;
      ++i;
      continue;
    }
    if (hit->k == lexicon::kind::negation || hit->k == lexicon::kind::degree) {
      if (modifier_from != n && i > modifier_end + lex->negation_reach) negations = 0, degree = 1, modifier_from = n;
      if (hit->k == lexicon::kind::negation) ++negations; else degree *= hit->weight;
      if (modifier_from == n) modifier_from = i;
      modifier_end = j;
    } else {
      const bool applies = modifier_from != n && i <= modifier_end + lex->negation_reach;
      double v = hit->k == lexicon::kind::positive ? 1 : -1;
      if (applies) v *= degree * ((negations % 2) ? -1 : 1);
      a.score += v;
      const size_t from = applies ? modifier_from : i;
      a.evidence.push_back(t.substr(b[from], b[j] - b[from]) + ":" + signed_text(v));
      negations = 0, degree = 1, modifier_from = n;
    }
    i = j;
  }
  a.t = a.score <= -lex->threshold ? tendency::negative
        : a.score >= lex->threshold ? tendency::positive
                                    : tendency::neutral;
  return a;
}

}  // namespace yuqing::risk
