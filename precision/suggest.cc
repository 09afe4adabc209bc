#include "precision/suggest.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "precision/text.h"

namespace yuqing::precision {

using nlohmann::json;

namespace {

// A judged hit of the rule with its stored message.
struct judged {
  verdict what = verdict::undetermined;
  storage::message_record message;
  std::vector<storage::matched_span> spans;
};

struct candidate {
  std::string kind, text;
  std::vector<size_t> holders;  // indices of the judged hits holding it
  std::string example;
};

using candidate_map = std::map<std::pair<std::string, std::string>, candidate>;

const std::string* field_text(const storage::message_record& m, const std::string& field) {
  for (const auto& [name, text] : m.text)
    if (name == field) return &text;
  return nullptr;
}

void note(candidate_map& out, const std::string& kind, std::string text, size_t holder,
          const std::string& example) {
  auto& c = out[{kind, text}];
  if (c.text.empty()) {
    c.kind = kind;
    c.text = std::move(text);
  }
  if (c.example.empty()) c.example = example;
  if (c.holders.empty() || c.holders.back() != holder) c.holders.push_back(holder);
}

// The code points of `text` inside an occurrence of one of `terms` (a word straddling a
// keyword is no word of its own).
std::vector<bool> inside_terms(const std::string& text, const std::vector<code_point>& cps,
                               const std::vector<std::string>& terms) {
  std::vector<bool> in(cps.size(), false);
  for (const auto& term : terms)
    for (auto at = text.find(term); !term.empty() && at != std::string::npos; at = text.find(term, at + 1)) {
      const auto [a, b] = cp_range(cps, static_cast<uint32_t>(at), static_cast<uint32_t>(at + term.size()));
      for (size_t k = a; k < b; ++k) in[k] = true;
    }
  return in;
}

// The allow phrases around each span of hit `i` and the words near it (none candidates).
void collect(const judged& j, size_t i, const suggest_options& o, const std::vector<std::string>& terms,
             candidate_map& allow, std::set<std::string>& words) {
  for (const auto& s : j.spans) {
    const std::string* t = field_text(j.message, s.field);
    if (!t || s.end > t->size() || s.begin >= s.end) continue;
    const auto cps = decode_utf8(*t);
    const auto skip = inside_terms(*t, cps, terms);
    const auto [i0, i1] = cp_range(cps, s.begin, s.end);
    size_t left = 0, right = 0;
    while (left < static_cast<size_t>(o.max_context) && i0 >= left + 1 && word_cp(cps[i0 - left - 1].c)) ++left;
    while (right < static_cast<size_t>(o.max_context) && i1 + right < cps.size() && word_cp(cps[i1 + right].c)) ++right;
    for (size_t l = 0; l <= left; ++l)
      for (size_t r = 0; r <= right; ++r) {
        if (l == 0 && r == 0) continue;
        const uint32_t b = cps[i0 - l].begin, e = cps[i1 + r - 1].end;
        note(allow, "allow", t->substr(b, e - b), i, j.what == verdict::false_hit ? excerpt(*t, b, e, 20) : "");
      }
    const size_t w = static_cast<size_t>(o.window);
    for (auto& word : words_in(*t, cps, i0 >= w ? i0 - w : 0, i0, skip)) words.insert(std::move(word));
    for (auto& word : words_in(*t, cps, i1, std::min(cps.size(), i1 + w), skip)) words.insert(std::move(word));
  }
}

// The none candidates: each word near a false hit's match, held by the hits whose message
// contains it anywhere (a rule's none looks at the whole message).
void collect_words(const std::vector<judged>& hits, const std::set<std::string>& words,
                   candidate_map& out) {
  for (const auto& word : words) {
    for (size_t i = 0; i < hits.size(); ++i) {
      for (const auto& [name, text] : hits[i].message.text) {
        const auto at = text.find(word);
        if (at == std::string::npos) continue;
        note(out, "none", word, i, hits[i].what == verdict::false_hit ? excerpt(text, at, at + word.size(), 20) : "");
        break;
      }
    }
  }
}

suggestion score(const candidate& c, const std::vector<judged>& hits, uint64_t nf, uint64_t nr) {
  suggestion s;
  s.kind = c.kind;
  s.text = c.text;
  s.example = c.example;
  for (size_t i : c.holders) {
    if (hits[i].what == verdict::false_hit) ++s.false_with;
    if (hits[i].what == verdict::relevant) ++s.relevant_with;
  }
  s.spam = nf ? static_cast<double>(s.false_with) / static_cast<double>(nf) : 0;
  s.ham = nr ? static_cast<double>(s.relevant_with) / static_cast<double>(nr) : 0;
  s.so = s.spam + s.ham > 0 ? s.spam / (s.spam + s.ham) : 0;
  s.score = s.so * s.spam;
  return s;
}

// The candidates ranked, one per set of judged hits covered, the best `max` kept.
std::vector<suggestion> rank(const candidate_map& all, const std::vector<judged>& hits, uint64_t nf,
                             uint64_t nr, size_t max) {
  std::vector<std::pair<suggestion, const candidate*>> scored;
  for (const auto& [key, c] : all) {
    auto s = score(c, hits, nf, nr);
    if (s.false_with > 0 && s.so > 0.5) scored.emplace_back(std::move(s), &c);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) {
    const auto& a = x.first;
    const auto& b = y.first;
    if (a.score != b.score) return a.score > b.score;
    if (a.relevant_with != b.relevant_with) return a.relevant_with < b.relevant_with;
    const auto la = utf8_length(a.text), lb = utf8_length(b.text);
    if (la != lb) return la < lb;
    return std::tie(a.kind, a.text) < std::tie(b.kind, b.text);
  });
  std::vector<suggestion> out;
  std::set<std::vector<size_t>> covered;
  for (auto& [s, c] : scored) {
    if (out.size() >= max) break;
    if (!covered.insert(c->holders).second) continue;
    out.push_back(std::move(s));
  }
  return out;
}

// The judged hits (relevant and false) of the rule whose message is still stored.
result<std::vector<judged>> judged_hits(const storage::store& store, const verdict_book& book,
                                        const std::string& set, const std::string& rule,
                                        suggest_result& res) {
  auto records = book.all(set);
  if (!records) return error{records.error_message()};
  std::vector<judged> out;
  for (const auto& r : *records) {
    if (r.rule != rule || r.current.what == verdict::undetermined) continue;
    (r.current.what == verdict::false_hit ? res.judged_false : res.judged_relevant)++;
    auto m = store.message(r.message_key);
    if (!m) return error{m.error_message()};
    storage::hit_query q;
    q.message = r.message_key;
    q.set = set;
    auto hs = store.hits(q);
    if (!hs) return error{hs.error_message()};
    const auto h = std::find_if(hs->begin(), hs->end(), [&](const auto& x) { return x.rule_id == rule; });
    if (!m->has_value() || h == hs->end()) {
      ++res.not_stored;
      continue;
    }
    out.push_back({r.current.what, std::move(**m), h->spans});
  }
  return out;
}

bool rule_hits(const matchers::compiled_set& set, const std::string& rule,
               const std::vector<std::string_view>& fields, std::vector<matchers::hit>& scratch) {
  scratch.clear();
  set.match(fields, scratch);
  return std::any_of(scratch.begin(), scratch.end(), [&](const matchers::hit& h) { return h.rule_id == rule; });
}

matchers::keyword_set with(const matchers::keyword_set& def, const suggestion& s) {
  matchers::keyword_set d = def;
  if (s.kind == "allow") d.allow.push_back({s.text, {}});
  for (auto& r : d.rules)
    if (s.kind == "none" && r.id == s.rule) r.none.push_back({s.text, {}});
  return d;
}

// The backtest of each suggestion over the stored messages of the rule's hits.
status measure(const storage::store& store, const verdict_book& book, const matchers::compiled_set& running,
               const suggest_options& o, suggest_result& res) {
  storage::hit_query q;
  q.set = res.set;
  q.since_ms = o.from_ms;
  q.limit = std::numeric_limits<size_t>::max();
  auto hits = store.hits(q);
  if (!hits) return error{hits.error_message()};
  auto records = book.all(res.set);
  if (!records) return error{records.error_message()};
  std::unordered_map<std::string, verdict> verdicts;
  for (const auto& r : *records) verdicts[r.hit] = r.current.what;
  std::vector<std::pair<storage::message_record, std::optional<verdict>>> messages;
  std::set<std::string> seen;
  for (const auto& h : *hits) {
    if (h.rule_id != res.rule || messages.size() >= o.max_scan || !seen.insert(h.message_key).second) continue;
    auto m = store.message(h.message_key);
    if (!m) return error{m.error_message()};
    if (!m->has_value()) continue;
    const auto v = verdicts.find(hit_id(h));
    messages.emplace_back(std::move(**m), v == verdicts.end() ? std::nullopt : std::optional<verdict>(v->second));
  }
  std::vector<matchers::hit> scratch;
  std::vector<std::vector<std::string_view>> fields(messages.size());
  std::vector<bool> hit_now(messages.size());  // the set in force hits it with the rule
  for (size_t i = 0; i < messages.size(); ++i) {
    for (const auto& [name, text] : messages[i].first.text) fields[i].push_back(text);
    hit_now[i] = rule_hits(running, res.rule, fields[i], scratch);
  }
  for (auto& s : res.suggestions) {
    auto c = matchers::compiled_set::compile(with(running.definition(), s));
    if (!c.ok()) continue;
    s.measured = true;
    for (size_t i = 0; i < messages.size(); ++i) {
      const auto& v = messages[i].second;
      ++s.hits_scanned;
      if (!hit_now[i] || rule_hits(*c.set, res.rule, fields[i], scratch)) continue;
      ++s.hits_removed;
      if (v == verdict::false_hit) ++s.false_removed;
      else if (v == verdict::relevant) ++s.relevant_lost;
      else ++s.undetermined_removed;
    }
  }
  return ok_status();
}

}  // namespace

result<suggest_result> suggest(const storage::store& store, const verdict_book& book,
                               const matchers::compiled_set& running, const std::string& rule,
                               const suggest_options& o) {
  suggest_result res;
  res.set = running.definition().id;
  res.rule = rule;
  res.set_version = running.definition().version;
  auto hits = judged_hits(store, book, res.set, rule, res);
  if (!hits) return error{hits.error_message()};
  std::vector<std::string> terms;  // the rule's keywords, as written
  for (const auto& r : running.definition().rules) {
    if (r.id != rule) continue;
    for (const auto& t : r.any) terms.push_back(t.text);
    for (const auto& g : r.all)
      for (const auto& t : g) terms.push_back(t.text);
  }
  candidate_map candidates;
  std::set<std::string> words;
  for (size_t i = 0; i < hits->size(); ++i) {
    std::set<std::string> near;
    collect((*hits)[i], i, o, terms, candidates, near);
    if ((*hits)[i].what == verdict::false_hit) words.insert(near.begin(), near.end());
  }
  collect_words(*hits, words, candidates);
  uint64_t nf = 0, nr = 0;
  for (const auto& h : *hits) (h.what == verdict::false_hit ? nf : nr)++;
  // The best few by score are backtested; one that removes no false hit there is dropped.
  res.suggestions = rank(candidates, *hits, nf, nr, 4 * o.max_suggestions);
  for (auto& s : res.suggestions) {
    s.set = res.set;
    s.rule = rule;
  }
  if (auto st = measure(store, book, running, o, res); !st) return error{st.error_message()};
  std::erase_if(res.suggestions, [](const suggestion& s) { return !s.measured || s.false_removed == 0; });
  if (res.suggestions.size() > o.max_suggestions) res.suggestions.resize(o.max_suggestions);
  return res;
}

std::string suggest_result::to_json() const {
  json list = json::array();
  for (size_t i = 0; i < suggestions.size(); ++i) {
    const auto& s = suggestions[i];
    json j{{"n", i + 1},          {"kind", s.kind},
           {"text", s.text},      {"false_with", s.false_with},
           {"relevant_with", s.relevant_with}, {"spam", s.spam},
           {"ham", s.ham},        {"so", s.so},
           {"score", s.score},    {"example", s.example},
           {"measured", s.measured}};
    if (s.measured)
      j["backtest"] = {{"false_removed", s.false_removed},   {"relevant_lost", s.relevant_lost},
                       {"undetermined_removed", s.undetermined_removed},
                       {"hits_removed", s.hits_removed},    {"hits_scanned", s.hits_scanned}};
    list.push_back(std::move(j));
  }
  return json{{"set", set},
              {"rule", rule},
              {"set_version", set_version},
              {"judged_false", judged_false},
              {"judged_relevant", judged_relevant},
              {"not_stored", not_stored},
              {"suggestions", list}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace yuqing::precision
