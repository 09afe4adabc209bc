#include "daemon/routes_precision.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <regex>
#include <set>

#include "alerting/alert.h"
#include "alerting/service.h"
#include "ingest/decoder.h"
#include "http/client.h"
#include "precision/precision.h"
#include "precision/suggest.h"
#include "precision/text.h"

namespace yuqing::daemon {

using nlohmann::json;
namespace pr = yuqing::precision;

namespace {

http::http_response ok_json(const json& j) {
  return {200, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace)};
}
http::http_response ok_json(const std::string& body) { return {200, "application/json", body}; }

// Query parameters: only `known` ones (else the unknown one is named).
std::string unknown_parameter(const http::http_request& r, const std::set<std::string>& known) {
  for (const auto& [k, v] : r.query)
    if (!known.count(k)) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return k + ": unknown parameter (" + list + ")";
    }
  return "";
}

std::string param(const http::http_request& r, const std::string& key) {
  const auto it = r.query.find(key);
  return it == r.query.end() ? "" : it->second;
}

// A time parameter (RFC 3339, ms or an age); false when malformed.
bool time_param(const http::http_request& r, const std::string& key, int64_t now, int64_t& ms) {
  const auto v = param(r, key);
  return v.empty() || common::parse_time_or_age(v, now, ms);
}

// A verdict request's body: verdict, note, who (the shared token only). "" or what is wrong.
std::string read_verdict_body(const http::http_request& r, pr::verdict_entry& e) {
  const json body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return "body: expected {\"verdict\": \"relevant|false|undetermined\", \"note\": \"...\"}";
  for (const auto& [k, v] : body.items())
    if (k != "verdict" && k != "note" && k != "who") return k + ": unknown field (verdict, note, who)";
  if (!body.contains("verdict") || !body["verdict"].is_string())
    return "verdict: relevant, false or undetermined (有效, 误报, 待定)";
  const auto v = pr::parse_verdict(body["verdict"].get<std::string>());
  if (!v) return "verdict: '" + body["verdict"].get<std::string>() + "' is not relevant, false or undetermined (有效, 误报, 待定)";
  for (const char* f : {"note", "who"})
    if (body.contains(f) && !body[f].is_string()) return std::string(f) + ": a string";
  e.what = *v;
  e.note = body.value("note", "");
  if (e.note.size() > pr::max_note_bytes) return "note: at most " + std::to_string(pr::max_note_bytes) + " bytes";
  // A person's token names them; the shared token (an admin without a name) says who in the body.
  e.who = !r.person.empty() ? r.person + "（" + r.unit + "）" : body.value("who", "");
  if (e.who.empty()) return "who: the person giving the verdict (the shared token has no name)";
  if (e.who.size() > 256) return "who: at most 256 bytes";
  return "";
}

prometheus::MetricFamily verdict_family(const pr::verdict_counts& counts) {
  prometheus::MetricFamily f;
  f.name = "yuqing_rule_verdicts_total";
  f.help = "Verdicts analysts gave on the hits of each rule (relevant, false, undetermined), kept across restarts";
  f.type = prometheus::MetricType::Counter;
  for (const auto& [key, n] : counts) {
    prometheus::ClientMetric m;
    m.label = {{"set", std::get<0>(key)}, {"rule", std::get<1>(key)}, {"verdict", std::get<2>(key)}};
    m.counter.value = static_cast<double>(n);
    f.metric.push_back(std::move(m));
  }
  return f;
}

}  // namespace

struct precision_api::impl {
  impl(storage::store& s, sets::keyword_sets& k, std::shared_ptr<const config::plan> p)
      : store(s), sets(k), plan(std::move(p)), book(s) {}
  storage::store& store;
  sets::keyword_sets& sets;
  std::shared_ptr<const config::plan> plan;
  pr::verdict_book book;
  alerting::service* alerts = nullptr;
  mutable std::mutex mu;
  pr::verdict_counts counts;

  std::shared_ptr<const matchers::compiled_set> set_in_force(const std::string& id) const {
    for (const auto& s : sets.current()->sets())
      if (s->definition().id == id) return s;
    return nullptr;
  }

  // The stored hit of an id; nullopt when there is none.
  result<std::optional<storage::hit_record>> find_hit(const pr::hit_ref& ref) const {
    storage::hit_query q;
    q.message = ref.message_key;
    q.set = ref.set;
    auto hits = store.hits(q);
    if (!hits) return error{hits.error_message()};
    for (auto& h : *hits)
      if (h.rule_id == ref.rule) return std::optional<storage::hit_record>(std::move(h));
    return std::optional<storage::hit_record>{};
  }

  result<pr::verdict_record> give(const storage::hit_record& h, pr::verdict_entry e) {
    e.time_ms = system_clock().now_ms();
    auto rec = book.record(h, e);
    if (!rec) return rec;
    {
      std::lock_guard lock(mu);
      ++counts[{h.set_id, h.rule_id, pr::to_string(e.what)}];
    }
    spdlog::info("event=verdict hit=\"{}\" verdict={} by=\"{}\"", http::log_safe(rec->hit), pr::to_string(e.what), http::log_safe(e.who));
    check_threshold(h.set_id, h.rule_id);
    return rec;
  }

  void check_threshold(const std::string& set_id, const std::string& rule);
  alerting::alert tuning_alert(const matchers::keyword_set& d, const pr::rule_precision& r,
                               const std::vector<pr::verdict_record>& records) const;
  http::http_response hit_verdict(const http::http_request& r);
  http::http_response verdicts(const http::http_request& r) const;
  http::http_response precision(const http::http_request& r) const;
  result<pr::suggest_result> suggestions(const http::http_request& r, const json* body, int& status) const;
  http::http_response apply(const http::http_request& r);
};

precision_api::precision_api(storage::store& store, sets::keyword_sets& sets, std::shared_ptr<const config::plan> plan,
                             metrics::registry& registry)
    : impl_(std::make_unique<impl>(store, sets, std::move(plan))) {
  auto c = impl_->book.counts();
  if (c) impl_->counts = std::move(*c);
  else spdlog::error("event=verdicts_unreadable error=\"{}\"", c.error_message());
  registry.add_collector([this] {
    std::lock_guard lock(impl_->mu);
    return std::vector<prometheus::MetricFamily>{verdict_family(impl_->counts)};
  });
}

precision_api::~precision_api() = default;

void precision_api::set_alerts(alerting::service* alerts) { impl_->alerts = alerts; }

alerting::alert precision_api::impl::tuning_alert(const matchers::keyword_set& d, const pr::rule_precision& r,
                                                  const std::vector<pr::verdict_record>& records) const {
  alerting::alert a;
  a.fingerprint = "precision/" + d.id + "/" + r.rule;
  a.origin = "precision";
  a.kind = "rule_tuning";
  a.level = alerting::alert_level::blue;
  a.topic = d.topic;
  a.set_id = d.id;
  a.set_name = d.name;
  a.alert_rule = "precision_threshold";
  a.keyword_rule = r.rule;
  a.plan_item = d.plan_item;
  if (plan)
    if (const auto* item = plan->item(d.plan_item)) {
      a.plan_text = item->subsection.empty() ? item->text : item->subsection;
      a.lead_units = item->lead_units;
      a.cooperating_units = item->cooperating_units;
    }
  a.count = r.false_hits;
  a.first_hit_ms = a.last_hit_ms = system_clock().now_ms();
  for (auto it = records.rbegin(); it != records.rend() && a.examples.size() < 5; ++it)
    if (it->rule == r.rule && it->current.what == pr::verdict::false_hit)
      a.examples.push_back({it->message_key, it->hit_time_ms, r.rule, it->current.who, it->current.note});
  char p[32];
  std::snprintf(p, sizeof p, "%.3f", r.precision().value_or(0));
  a.labels = {{"rule", r.rule}, {"precision", p}, {"threshold", std::to_string(d.precision_threshold)},
              {"judged", std::to_string(r.relevant + r.false_hits)}};
  return a;
}

void precision_api::impl::check_threshold(const std::string& set_id, const std::string& rule) {
  const auto set = set_in_force(set_id);
  if (!alerts || !set || set->definition().precision_threshold <= 0) return;
  const auto& d = set->definition();
  auto records = book.all(set_id);
  if (!records) return;
  const auto r = pr::rule_verdicts(*records, set_id, rule);
  if (pr::needs_tuning(r, {d.precision_threshold, d.precision_min_judged})) {
    spdlog::info("event=rule_needs_tuning set={} rule=\"{}\" precision={:.3f} threshold={}", set_id, http::log_safe(rule),
                 r.precision().value_or(0), d.precision_threshold);
    alerts->raise(tuning_alert(d, r, *records));
  } else {
    alerts->resolve("precision/" + set_id + "/" + rule, "precision back over the threshold");
  }
}

http::http_response precision_api::impl::hit_verdict(const http::http_request& r) {
  constexpr std::string_view base = "/api/v1/hits/", suffix = "/verdict";
  const std::string rest = r.path.substr(base.size());
  if (rest.size() <= suffix.size() || rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0)
    return http::json_error(404, "POST or GET /api/v1/hits/{id}/verdict");
  const std::string id = rest.substr(0, rest.size() - suffix.size());
  const auto ref = pr::parse_hit_id(id);
  if (!ref) return http::json_error(400, "id: a hit id is SET|RULE|MESSAGE_KEY (as /api/v1/hits lists it), not " + id);
  if (r.method == "GET") {
    auto v = book.find(id);
    if (!v) return http::json_error(500, v.error_message());
    if (!v->has_value()) return http::json_error(404, "no verdict on hit " + id);
    return ok_json((*v)->to_json());
  }
  pr::verdict_entry e;
  if (auto bad = read_verdict_body(r, e); !bad.empty()) return http::json_error(400, bad);
  auto hit = find_hit(*ref);
  if (!hit) return http::json_error(500, hit.error_message());
  if (!hit->has_value()) return http::json_error(404, "no hit " + id + " (unknown hit id)");
  auto rec = give(**hit, std::move(e));
  if (!rec) return http::json_error(500, rec.error_message());
  return ok_json(rec->to_json());
}


http::http_response precision_api::alert_verdict(const http::http_request& r) {
  auto& m = *impl_;
  const std::string alert_id = r.path.substr(std::string("/api/v1/alerts/").size(),
                                             r.path.size() - std::string("/api/v1/alerts//verdict").size());
  auto stored = m.store.get("alerts", alert_id);
  if (!stored) return http::json_error(500, stored.error_message());
  if (!stored->has_value()) return http::json_error(404, "no alert " + alert_id);
  if (r.method == "GET") {
    auto v = m.book.alert_verdict(alert_id);
    if (!v) return http::json_error(500, v.error_message());
    if (!v->has_value()) return http::json_error(404, "no verdict on alert " + alert_id);
    return ok_json(**v);
  }
  pr::verdict_entry e;
  if (auto bad = read_verdict_body(r, e); !bad.empty()) return http::json_error(400, bad);
  const auto a = alerting::alert::from_json(**stored);
  if (!a) return http::json_error(500, "alert " + alert_id + " is unreadable in the store");
  e.alert = alert_id;
  json marked = json::array(), missing = json::array();
  for (const auto& ex : a->examples) {
    auto hit = m.find_hit({a->set_id, ex.rule.empty() ? a->keyword_rule : ex.rule, ex.message_key});
    if (!hit) return http::json_error(500, hit.error_message());
    if (!hit->has_value()) {
      missing.push_back(ex.message_key);
      continue;
    }
    auto rec = m.give(**hit, e);
    if (!rec) return http::json_error(500, rec.error_message());
    marked.push_back(rec->hit);
  }
  e.time_ms = system_clock().now_ms();
  if (auto st = m.book.record_alert(alert_id, e, marked.size()); !st) return http::json_error(500, st.error_message());
  return ok_json(json{{"alert", alert_id}, {"verdict", pr::to_string(e.what)}, {"who", e.who},
                      {"hits_marked", marked}, {"examples_without_hit", missing}});
}

http::http_response precision_api::impl::verdicts(const http::http_request& r) const {
  if (auto bad = unknown_parameter(r, {"set", "rule", "verdict", "limit"}); !bad.empty()) return http::json_error(400, bad);
  const std::string want = param(r, "verdict");
  const auto v = pr::parse_verdict(want);
  if (!want.empty() && !v) return http::json_error(400, "verdict: relevant, false or undetermined (有效, 误报, 待定)");
  size_t limit = 1000;
  if (const auto l = param(r, "limit"); !l.empty()) {
    if (l.size() > 6 || l.find_first_not_of("0123456789") != std::string::npos || std::stoul(l) == 0)
      return http::json_error(400, "limit: a number from 1 to 999999");
    limit = std::stoul(l);
  }
  auto records = book.all(param(r, "set"));
  if (!records) return http::json_error(500, records.error_message());
  json out = json::array();
  for (const auto& rec : *records) {
    if (out.size() >= limit) break;
    if (!param(r, "rule").empty() && rec.rule != param(r, "rule")) continue;
    if (v && rec.current.what != *v) continue;
    out.push_back(json::parse(rec.to_json()));
  }
  return ok_json(json{{"verdicts", out}});
}

http::http_response precision_api::impl::precision(const http::http_request& r) const {
  if (auto bad = unknown_parameter(r, {"set", "from", "to"}); !bad.empty()) return http::json_error(400, bad);
  const int64_t now = system_clock().now_ms();
  pr::precision_query q;
  q.set = param(r, "set");
  if (!time_param(r, "from", now, q.from_ms)) return http::json_error(400, "from: RFC 3339 time, milliseconds or an age (30d)");
  if (!time_param(r, "to", now, q.to_ms)) return http::json_error(400, "to: RFC 3339 time, milliseconds or an age (30d)");
  if (!q.set.empty() && !set_in_force(q.set) && !std::regex_match(q.set, std::regex("[A-Za-z0-9][A-Za-z0-9._-]*")))
    return http::json_error(400, "set: a set id (letters, digits, . _ -)");
  for (const auto& s : sets.current()->sets())
    for (const auto& rule : s->definition().rules) q.known_rules.emplace_back(s->definition().id, rule.id);
  auto rep = pr::compute_precision(store, book, q);
  if (!rep) return http::json_error(500, rep.error_message());
  json j = json::parse(rep->to_json());
  j["from"] = common::format_rfc3339(q.from_ms);
  if (q.to_ms != std::numeric_limits<int64_t>::max()) j["to"] = common::format_rfc3339(q.to_ms);
  return ok_json(j);
}

// The suggestions of set/rule (query or body); status is the 4xx of a bad request.
result<pr::suggest_result> precision_api::impl::suggestions(const http::http_request& r, const json* body, int& status) const {
  auto get = [&](const char* k) {
    if (!body) return param(r, k);
    return body->contains(k) && (*body)[k].is_string() ? (*body)[k].get<std::string>() : std::string();
  };
  status = 400;
  const std::string set_id = get("set"), rule = get("rule"), since = get("since");
  if (set_id.empty()) return error{"set: the set id"};
  if (rule.empty()) return error{"rule: the rule id"};
  const auto set = set_in_force(set_id);
  status = 404;
  if (!set) return error{"set: no set " + set_id + " in force"};
  const auto& rules = set->definition().rules;
  if (std::none_of(rules.begin(), rules.end(), [&](const matchers::rule& x) { return x.id == rule; }))
    return error{"rule: no rule " + rule + " in set " + set_id};
  status = 400;
  pr::suggest_options o;
  if (!since.empty() && !common::parse_time_or_age(since, system_clock().now_ms(), o.from_ms))
    return error{"since: RFC 3339 time, milliseconds or an age (30d)"};
  status = 500;
  return pr::suggest(store, book, *set, rule, o);
}

http::http_response precision_api::impl::apply(const http::http_request& r) {
  const json body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return http::json_error(400, "body: expected {\"set\", \"rule\", \"n\": 1, \"since\"}");
  for (const auto& [k, v] : body.items())
    if (k != "set" && k != "rule" && k != "n" && k != "since") return http::json_error(400, k + ": unknown field (set, rule, n, since)");
  if (!body.contains("n") || !body["n"].is_number_unsigned() || body["n"].get<uint64_t>() == 0)
    return http::json_error(400, "n: the number of the suggestion (1 is the first)");
  int status = 400;
  auto res = suggestions(r, &body, status);
  if (!res) return http::json_error(status, res.error_message());
  const auto n = body["n"].get<uint64_t>();
  if (n > res->suggestions.size())
    return http::json_error(404, "n: there are " + std::to_string(res->suggestions.size()) + " suggestions");
  const auto& s = res->suggestions[n - 1];
  const auto file = set_in_force(res->set)->definition().file;
  auto applied = pr::apply_suggestion(file, s);
  if (!applied) return http::json_error(409, applied.error_message());
  spdlog::info("event=suggestion_applied set={} rule=\"{}\" kind={} text=\"{}\" by=\"{}\"", res->set, http::log_safe(s.rule), s.kind,
               http::log_safe(s.text), http::log_safe(r.person.empty() ? r.remote : r.person));
  auto f = sets.request("suggestion " + (r.person.empty() ? r.remote : r.person));
  json out{{"applied", json::parse(res->to_json())["suggestions"][n - 1]}, {"file", file}};
  if (f.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
    const auto o = f.get();
    out["reload"] = {{"ok", o.ok}, {"loaded", o.loaded}, {"errors", o.errors}};
  } else {
    out["reload"] = {{"state", "running"}, {"see", "/api/v1/keyword-sets"}};
  }
  return ok_json(out);
}

void precision_api::add_routes(http::http_server& http) {
  using access = http::http_server::access;
  auto& m = *impl_;
  http.route("POST", "/api/v1/hits/", [&m](const http::http_request& r) { return m.hit_verdict(r); }, access::analyst);
  http.route("GET", "/api/v1/hits/", [&m](const http::http_request& r) { return m.hit_verdict(r); });
  http.route("POST", "/api/v1/alerts/*/verdict", [this](const http::http_request& r) { return alert_verdict(r); },
             access::analyst);
  http.route("GET", "/api/v1/alerts/*/verdict", [this](const http::http_request& r) { return alert_verdict(r); });
  http.route("GET", "/api/v1/verdicts", [&m](const http::http_request& r) { return m.verdicts(r); });
  http.route("GET", "/api/v1/precision", [&m](const http::http_request& r) { return m.precision(r); });
  http.route("GET", "/api/v1/suggestions", [&m](const http::http_request& r) {
    if (auto bad = unknown_parameter(r, {"set", "rule", "since"}); !bad.empty()) return http::json_error(400, bad);
    int status = 400;
    auto res = m.suggestions(r, nullptr, status);
    if (!res) return http::json_error(status, res.error_message());
    return ok_json(res->to_json());
  });
  http.route("POST", "/api/v1/suggestions/apply", [&m](const http::http_request& r) { return m.apply(r); }, access::analyst);
}

json precision_api::enrich_hit(const storage::hit_record& h, json j) const {
  const std::string id = pr::hit_id(h);
  j["id"] = id;
  j["verdict"] = nullptr;
  if (auto v = impl_->book.find(id); v && v->has_value())
    j["verdict"] = {{"verdict", pr::to_string((*v)->current.what)}, {"label", pr::to_chinese((*v)->current.what)},
                    {"who", (*v)->current.who}, {"note", (*v)->current.note},
                    {"time", common::format_rfc3339((*v)->current.time_ms)}};
  j["message_url"] = "/api/v1/messages/" + http::url_encode(h.message_key);
  auto m = impl_->store.message(h.message_key);
  if (!m || !m->has_value()) return j;
  if (!(*m)->url.empty()) j["url"] = (*m)->url;
  json context = json::array();
  for (const auto& s : h.spans)
    for (const auto& [name, text] : (*m)->text)
      if (name == s.field && s.end <= text.size() && s.begin < s.end)
        context.push_back(pr::excerpt(text, s.begin, s.end, 30));
  j["around"] = context;
  return j;
}

void precision_api::rank_rules(json& rules) const {
  pr::precision_query q;
  auto rep = pr::compute_precision(impl_->store, impl_->book, q);
  if (!rep || rep->judged == 0) return;
  std::map<std::pair<std::string, std::string>, const pr::rule_precision*> by_rule;
  for (const auto& r : rep->rules) by_rule[{r.set, r.rule}] = &r;
  std::vector<pr::rule_precision> order;
  for (auto& row : rules) {
    const auto it = by_rule.find({row.value("set", ""), row.value("rule", "")});
    pr::rule_precision p{row.value("set", ""), row.value("rule", ""), ""};
    if (it != by_rule.end()) p = *it->second;
    p.hits = row.value("hits", uint64_t{0});
    row["judged"] = p.judged;
    row["relevant"] = p.relevant;
    row["false"] = p.false_hits;
    row["precision"] = p.precision() ? json(*p.precision()) : json(nullptr);
    order.push_back(p);
  }
  pr::rank_noisiest(order);
  json sorted = json::array();
  for (const auto& p : order)
    for (const auto& row : rules)
      if (row.value("set", "") == p.set && row.value("rule", "") == p.rule) sorted.push_back(row);
  rules = std::move(sorted);
}

}  // namespace yuqing::daemon
