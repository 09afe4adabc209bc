#include "ctl/precision.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "http/client.h"

namespace yuqing::ctl {

using nlohmann::json;

namespace {

struct client : api {
  // The answer in `out`; or the exit code once it is printed (an error: 1; as_json: 0).
  std::optional<int> fetch(const std::string& method, const std::string& target, const std::string& body, bool as_json,
                           json& out) const {
    return print_or_keep(call(method, target, body), as_json, out);
  }
};

std::string fixed(const json& v, const char* fmt = "%.3f") {
  if (!v.is_number()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, fmt, v.get<double>());
  return b;
}

void print_suggestion(const json& s, const char* indent) {
  std::printf("%s%llu. %s %s  S/O %s  score %s  (in %llu false, %llu relevant judged hits)\n", indent,
              s["n"].get<unsigned long long>(), s["kind"].get<std::string>().c_str(), s["text"].dump().c_str(),
              fixed(s["so"], "%.2f").c_str(), fixed(s["score"], "%.2f").c_str(),
              s["false_with"].get<unsigned long long>(), s["relevant_with"].get<unsigned long long>());
  if (s.contains("backtest")) {
    const auto& b = s["backtest"];
    std::printf("%s   backtest: removes %llu false hits, loses %llu relevant, %llu hits in all (%llu scanned)\n", indent,
                b["false_removed"].get<unsigned long long>(), b["relevant_lost"].get<unsigned long long>(),
                b["hits_removed"].get<unsigned long long>(), b["hits_scanned"].get<unsigned long long>());
  }
  if (!s.value("example", "").empty()) std::printf("%s   e.g. %s\n", indent, s["example"].get<std::string>().c_str());
}

std::string suggestions_target(const std::string& set, const std::string& rule, const std::string& since) {
  std::string t = "/api/v1/suggestions?set=" + http::url_encode(set) + "&rule=" + http::url_encode(rule);
  return since.empty() ? t : t + "&since=" + http::url_encode(since);
}

}  // namespace

struct precision_commands::impl {
  CLI::App *verdict = nullptr, *precision = nullptr, *suggest = nullptr;
  std::string id, what, note, who, set, rule, since = "30d";
  bool alert = false, as_json = false;
  size_t top = 3, apply = 0;

  int give(const client& c) const {
    json body{{"verdict", what}};
    if (!note.empty()) body["note"] = note;
    if (!who.empty()) body["who"] = who;
    const std::string target = std::string(alert ? "/api/v1/alerts/" : "/api/v1/hits/") + http::url_encode(id) + "/verdict";
    json j;
    if (auto rc = c.fetch("POST", target, body.dump(), as_json || alert, j)) return *rc;
    std::cout << j.value("hit", "") << ": " << j["current"].value("verdict", "") << " (" << j["current"].value("who", "")
              << ")\n";
    return 0;
  }

  int report(const client& c) const;
  void print_rule(const client& c, const json& x) const;
  int suggestions(const client& c) const;
};

// One rule's row and, when it has false hits, its top suggestions with their effect.
void precision_commands::impl::print_rule(const client& c, const json& x) const {
  const auto& ci = x["interval"];
  std::printf("%-24s %7llu %7llu %8llu %6llu %9s  %s\n", x["rule"].get<std::string>().c_str(),
              x["hits"].get<unsigned long long>(), x["judged"].get<unsigned long long>(),
              x["relevant"].get<unsigned long long>(), x["false"].get<unsigned long long>(), fixed(x["precision"]).c_str(),
              ci.is_object() ? ("[" + fixed(ci["low"]) + ", " + fixed(ci["high"]) + "]").c_str() : "-");
  if (x["false"].get<uint64_t>() == 0) return;
  auto sg = c.call("GET", suggestions_target(x["set"], x["rule"], ""));
  if (!sg) {
    std::printf("    (no suggestions: %s)\n", sg.error_message().c_str());
    return;
  }
  size_t shown = 0;
  for (const auto& one : (*sg)["suggestions"])
    if (shown++ < top) print_suggestion(one, "    ");
  if (shown == 0) std::printf("    (no suggestion: nothing occurs more in its false hits than in its relevant ones)\n");
}

int precision_commands::impl::report(const client& c) const {
  std::string target = "/api/v1/precision?from=" + http::url_encode(since);
  if (!set.empty()) target += "&set=" + http::url_encode(set);
  json body;
  if (auto rc = c.fetch("GET", target, "", as_json, body)) return *rc;
  const json* j = &body;
  std::printf("since %s: %llu hits, %llu judged\n", j->value("from", "").c_str(), (*j)["hits"].get<unsigned long long>(),
              (*j)["judged"].get<unsigned long long>());
  std::vector<std::string> sets;  // in the order of their noisiest rule
  for (const auto& r : (*j)["rules"])
    if (std::find(sets.begin(), sets.end(), r["set"].get<std::string>()) == sets.end()) sets.push_back(r["set"]);
  for (const auto& s : sets) {
    std::printf("\n== %s\n%-24s %7s %7s %8s %6s %9s  %s\n", s.c_str(), "rule", "hits", "judged", "relevant", "false",
                "precision", "95% interval");
    for (const auto& x : (*j)["rules"])
      if (x["set"] == s) print_rule(c, x);
    for (const auto& v : (*j)["versions"])  // per set version, where something was judged
      if (v["set"] == s && v["judged"].get<uint64_t>() > 0)
        std::printf("  version %s of %s: %llu hits, %llu judged, %llu false, precision %s\n",
                    v["set_version"].get<std::string>().c_str(), v["rule"].get<std::string>().c_str(),
                    v["hits"].get<unsigned long long>(), v["judged"].get<unsigned long long>(),
                    v["false"].get<unsigned long long>(), fixed(v["precision"]).c_str());
  }
  return 0;
}

int precision_commands::impl::suggestions(const client& c) const {
  if (apply > 0) {
    json body{{"set", set}, {"rule", rule}, {"n", apply}};
    if (!since.empty()) body["since"] = since;
    json out;
    if (auto rc = c.fetch("POST", "/api/v1/suggestions/apply", body.dump(), as_json, out)) return *rc;
    const json* j = &out;
    const auto& a = (*j)["applied"];
    std::printf("applied to %s: %s %s\n", (*j)["file"].get<std::string>().c_str(), a["kind"].get<std::string>().c_str(),
                a["text"].dump().c_str());
    std::cout << "reload: " << (*j)["reload"].dump() << "\n";
    return 0;
  }
  json out;
  if (auto rc = c.fetch("GET", suggestions_target(set, rule, since), "", as_json, out)) return *rc;
  const json* j = &out;
  std::printf("%s/%s (version %s): %llu false and %llu relevant verdicts (%llu no longer stored)\n", set.c_str(),
              rule.c_str(), j->value("set_version", "").c_str(), (*j)["judged_false"].get<unsigned long long>(),
              (*j)["judged_relevant"].get<unsigned long long>(), (*j)["not_stored"].get<unsigned long long>());
  for (const auto& s : (*j)["suggestions"]) print_suggestion(s, "  ");
  if ((*j)["suggestions"].empty()) std::printf("  no suggestion\n");
  else std::printf("apply one: yuqingctl suggest --set %s --rule %s --apply N\n", set.c_str(), rule.c_str());
  return 0;
}

precision_commands::precision_commands(CLI::App& cli, const std::function<void(CLI::App*)>& api_options)
    : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.verdict = cli.add_subcommand("verdict", "record a verdict on a hit (or --alert: on an alert's examples)");
  api_options(m.verdict);
  m.verdict->add_option("id", m.id, "hit id (SET|RULE|MESSAGE_KEY, as hits lists it) or alert id")->required();
  m.verdict->add_option("verdict", m.what, "relevant|false|undetermined (有效|误报|待定)")->required();
  m.verdict->add_option("--note", m.note, "a note (at most 1024 bytes)");
  m.verdict->add_option("--who", m.who, "the person (only with the shared http.token)");
  m.verdict->add_flag("--alert", m.alert, "the id is an alert's: mark each of its examples");
  m.verdict->add_flag("--json", m.as_json, "JSON output");
  m.precision = cli.add_subcommand("precision", "per set, the rules by false hits, with precision and suggestions");
  api_options(m.precision);
  m.precision->add_option("--set", m.set, "one set");
  m.precision->add_option("--since", m.since, "hits since (RFC 3339 or an age)")->capture_default_str();
  m.precision->add_option("--top", m.top, "suggestions shown per rule")->capture_default_str();
  m.precision->add_flag("--json", m.as_json, "JSON output");
  m.suggest = cli.add_subcommand("suggest", "suggested exclusions of a rule, and applying one");
  api_options(m.suggest);
  m.suggest->add_option("--set", m.set, "set id")->required();
  m.suggest->add_option("--rule", m.rule, "rule id")->required();
  m.suggest->add_option("--since", m.since, "backtest the hits since (RFC 3339 or an age)")->capture_default_str();
  m.suggest->add_option("--apply", m.apply, "write suggestion N into the set file (a new version) and reload");
  m.suggest->add_flag("--json", m.as_json, "JSON output");
}

precision_commands::~precision_commands() = default;

std::optional<int> precision_commands::run(const std::string& url, const std::string& token) const {
  const client c{{url, token}};
  if (*impl_->verdict) return impl_->give(c);
  if (*impl_->precision) return impl_->report(c);
  if (*impl_->suggest) return impl_->suggestions(c);
  return std::nullopt;
}

}  // namespace yuqing::ctl
