#include "alerting/rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "common/time.h"

namespace yuqing::alerting {

using common::quote_token;

const char* to_string(alert_level l) {
  switch (l) {
    case alert_level::blue: return "blue";
    case alert_level::yellow: return "yellow";
    case alert_level::orange: return "orange";
    case alert_level::red: return "red";
  }
  return "?";
}

std::optional<alert_level> parse_alert_level(const std::string& s) {
  if (s == "blue") return alert_level::blue;
  if (s == "yellow") return alert_level::yellow;
  if (s == "orange") return alert_level::orange;
  if (s == "red") return alert_level::red;
  return std::nullopt;
}

namespace {

common::source_pos pos_of(const YAML::Node& n) {
  const auto m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

// The parameters each kind takes (id, level, rule and resolve_after: every kind).
const std::map<std::string, std::set<std::string>>& kind_parameters() {
  static const std::map<std::string, std::set<std::string>> params = {
      {"immediate", {"min_severity"}},
      {"threshold", {"window", "count"}},
      {"spike", {"window", "baseline", "factor", "min_count"}},
      {"spread", {"window", "count", "distinct"}}};
  return params;
}

class parser {
 public:
  parser(std::string file, rules_result& out) : file_(std::move(file)), out_(out) {}

  void parse(const std::string& text, const std::vector<std::string>& rule_ids) {
    YAML::Node alerts;
    try {
      const YAML::Node root = YAML::Load(text);
      if (!root.IsMap() || !root["alerts"]) return;
      alerts = root["alerts"];
      if (!alerts.IsSequence()) return fail(alerts, "alerts: expected a list of alert rules");
      for (size_t i = 0; i < alerts.size(); ++i) parse_rule(alerts[i], i + 1);
    } catch (const YAML::Exception& e) {
      out_.diagnostics.push_back(
          {file_, {e.mark.line + 1, e.mark.column + 1}, "", "YAML: " + e.msg, false});
      return;
    }
    for (const auto& a : out_.rules) {
      if (a.rule.empty() || std::find(rule_ids.begin(), rule_ids.end(), a.rule) != rule_ids.end())
        continue;
      out_.diagnostics.push_back(
          {file_, a.pos, "", "alert " + quote_token(a.id) + ": no rule " + quote_token(a.rule) + " in this set",
           false});
    }
    // In the order of the file, as a reader fixes them.
    std::stable_sort(out_.diagnostics.begin(), out_.diagnostics.end(), [](const auto& x, const auto& y) {
      return std::pair(x.pos.line, x.pos.column) < std::pair(y.pos.line, y.pos.column);
    });
  }

 private:
  void fail(const YAML::Node& at, const std::string& msg) {
    out_.diagnostics.push_back({file_, pos_of(at), "", msg, false});
  }

  // The alert rule at `position` (1-based) of the list.
  void parse_rule(const YAML::Node& n, size_t position) {
    if (!n.IsMap()) return fail(n, "an alert rule is a map with a kind, e.g. {kind: immediate, level: red}");
    if (!n["kind"]) return fail(n, "an alert rule needs a kind (immediate, threshold, spike, spread)");
    alert_rule a;
    a.pos = pos_of(n);
    a.kind = n["kind"].Scalar();
    const auto kind = kind_parameters().find(a.kind);
    if (kind == kind_parameters().end())
      return fail(n["kind"], "unknown alert kind " + quote_token(a.kind) + " (immediate, threshold, spike, spread)");
    a.id = a.kind + "-" + std::to_string(position);
    const size_t errors = common::error_count(out_.diagnostics);
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      if (key == "kind") continue;
      if (!kv.second.IsScalar()) fail(kv.second, "alert parameter " + quote_token(key) + " must be a scalar");
      else if (common_parameter(key, kv.second, a)) continue;
      else if (!kind->second.count(key)) fail(kv.first, "alert kind " + a.kind + " has no parameter " + quote_token(key));
      else kind_parameter(key, kv.second, a);
    }
    for (const auto& need : kind->second) {
      if (need == "min_severity" || need == "distinct" || n[need]) continue;
      fail(n, "alert kind " + a.kind + " needs " + need);
    }
    if (a.kind == "spike" && a.baseline_ms > 0 && a.baseline_ms < a.window_ms)
      fail(n["baseline"], "baseline must be at least as long as window");
    for (const auto& other : out_.rules)
      if (other.id == a.id)
        fail(n["id"] ? n["id"] : n, "alert id " + quote_token(a.id) + " is used twice" +
                                        (n["id"] ? "" : " (the default id <kind>-<position>: give this rule an id)"));
    if (common::error_count(out_.diagnostics) == errors) out_.rules.push_back(std::move(a));
  }

  void duration(const std::string& key, const YAML::Node& v, int64_t& out) {
    if (auto d = common::parse_duration(v.Scalar())) out = *d;
    else fail(v, key + ": a duration like 90s, 10m, 24h or 7d, is " + quote_token(v.Scalar()));
  }

  // id, level, rule, resolve_after; false when `key` is none of them.
  bool common_parameter(const std::string& key, const YAML::Node& v, alert_rule& a) {
    if (key == "id") {
      a.id = v.Scalar();
    } else if (key == "level") {
      if (auto l = parse_alert_level(v.Scalar())) a.level = *l;
      else fail(v, "level must be blue, yellow, orange or red, is " + quote_token(v.Scalar()));
    } else if (key == "rule") {
      a.rule = v.Scalar();
    } else if (key == "resolve_after") {
      duration(key, v, a.resolve_after_ms);
    } else {
      return false;
    }
    return true;
  }

  // A parameter of the rule's kind (the common ones are already taken).
  void kind_parameter(const std::string& key, const YAML::Node& v, alert_rule& a) {
    const std::string s = v.Scalar();
    if (key == "min_severity") {
      if (auto level = common::parse_severity(s)) a.min_severity = *level;
      else fail(v, "min_severity must be info, warning or critical, is " + quote_token(s));
    } else if (key == "window") {
      duration(key, v, a.window_ms);
    } else if (key == "baseline") {
      duration(key, v, a.baseline_ms);
    } else if (key == "count" || key == "min_count") {
      long long x = 0;
      if (YAML::convert<long long>::decode(v, x) && x > 0) a.count = static_cast<uint64_t>(x);
      else fail(v, key + ": a whole number above 0, is " + quote_token(s));
    } else if (key == "factor") {
      if (!YAML::convert<double>::decode(v, a.factor) || !(a.factor > 0))
        fail(v, "factor: a number above 0, is " + quote_token(s));
    } else if (key == "distinct") {
      if (s != "author" && s != "source") fail(v, "distinct must be author or source, is " + quote_token(s));
      a.distinct = s;
    }
  }

  std::string file_;
  rules_result& out_;
};

}  // namespace

rules_result parse_alert_rules(const std::string& yaml, const std::string& file,
                               const std::vector<std::string>& keyword_rule_ids) {
  rules_result r;
  parser(file, r).parse(yaml, keyword_rule_ids);
  return r;
}

}  // namespace yuqing::alerting
