#include "precision/precision.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace yuqing::precision {

using nlohmann::json;

interval wilson(uint64_t successes, uint64_t n, double z) {
  if (n == 0) return {0, 1};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::optional<double> rule_precision::precision() const {
  const uint64_t n = relevant + false_hits;
  if (n == 0) return std::nullopt;
  return static_cast<double>(relevant) / static_cast<double>(n);
}

void rank_noisiest(std::vector<rule_precision>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const rule_precision& a, const rule_precision& b) {
    if (a.false_hits != b.false_hits) return a.false_hits > b.false_hits;
    const auto pa = a.precision(), pb = b.precision();
    if (pa.has_value() != pb.has_value()) return pa.has_value();
    if (pa && *pa != *pb) return *pa < *pb;
    if (a.hits != b.hits) return a.hits > b.hits;
    return std::tie(a.set, a.rule, a.set_version) < std::tie(b.set, b.rule, b.set_version);
  });
}

namespace {

void count(rule_precision& row, const verdict_record* v) {
  ++row.hits;
  if (!v) return;
  ++row.judged;
  switch (v->current.what) {
    case verdict::relevant: ++row.relevant; break;
    case verdict::false_hit: ++row.false_hits; break;
    case verdict::undetermined: ++row.undetermined; break;
  }
}

json row_json(const rule_precision& r) {
  json j{{"set", r.set},          {"rule", r.rule},          {"hits", r.hits},
         {"judged", r.judged},    {"relevant", r.relevant}, {"false", r.false_hits},
         {"undetermined", r.undetermined}};
  if (!r.set_version.empty()) j["set_version"] = r.set_version;
  const auto p = r.precision();
  j["precision"] = p ? json(*p) : json(nullptr);
  const auto ci = r.ci();
  j["interval"] = p ? json{{"low", ci.low}, {"high", ci.high}} : json(nullptr);
  return j;
}

}  // namespace

result<precision_report> compute_precision(const storage::store& store, const verdict_book& book,
                                           const precision_query& q) {
  auto records = book.all(q.set);
  if (!records) return error{records.error_message()};
  std::unordered_map<std::string, const verdict_record*> by_id;
  for (const auto& r : *records) by_id[r.hit] = &r;

  storage::hit_query hq;
  hq.set = q.set;
  hq.since_ms = q.from_ms;
  hq.until_ms = q.to_ms;
  hq.limit = std::numeric_limits<size_t>::max();
  auto hits = store.hits(hq);
  if (!hits) return error{hits.error_message()};

  precision_report rep;
  rep.from_ms = q.from_ms;
  rep.to_ms = q.to_ms;
  std::map<std::pair<std::string, std::string>, rule_precision> rules;
  std::map<std::tuple<std::string, std::string, std::string>, rule_precision> versions;
  for (const auto& [set, rule] : q.known_rules)
    if (q.set.empty() || set == q.set) rules[{set, rule}] = {set, rule, ""};
  for (const auto& h : *hits) {
    const auto it = by_id.find(hit_id(h));
    const verdict_record* v = it == by_id.end() ? nullptr : it->second;
    auto& row = rules[{h.set_id, h.rule_id}];
    row.set = h.set_id;
    row.rule = h.rule_id;
    count(row, v);
    auto& vrow = versions[{h.set_id, h.rule_id, h.set_version}];
    vrow.set = h.set_id;
    vrow.rule = h.rule_id;
    vrow.set_version = h.set_version.empty() ? "(unknown)" : h.set_version;
    count(vrow, v);
    ++rep.hits;
    if (v) ++rep.judged;
  }
  for (auto& [k, r] : rules) rep.rules.push_back(std::move(r));
  for (auto& [k, r] : versions) rep.versions.push_back(std::move(r));
  rank_noisiest(rep.rules);
  return rep;
}

std::string precision_report::to_json() const {
  json rj = json::array(), vj = json::array();
  for (const auto& r : rules) rj.push_back(row_json(r));
  for (const auto& r : versions) vj.push_back(row_json(r));
  return json{{"from_ms", from_ms}, {"to_ms", to_ms}, {"hits", hits},
              {"judged", judged},   {"rules", rj},    {"versions", vj}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

rule_precision rule_verdicts(const std::vector<verdict_record>& records, const std::string& set,
                             const std::string& rule) {
  rule_precision r{set, rule, ""};
  for (const auto& v : records)
    if (v.set == set && v.rule == rule) count(r, &v);
  return r;
}

bool needs_tuning(const rule_precision& r, const threshold& t) {
  const auto p = r.precision();
  return t.precision > 0 && p && r.relevant + r.false_hits >= t.min_judged && *p < t.precision;
}

}  // namespace yuqing::precision
