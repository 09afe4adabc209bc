#include "matchers/keyword_set.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "matchers/normalizer.h"
#include "matchers/set_checks.h"

namespace yuqing::matchers {

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

std::optional<int64_t> parse_duration(const std::string& s) {
  if (s.size() < 2) return std::nullopt;
  const char unit = s.back();
  const int64_t mult = unit == 's' ? 1000 : unit == 'm' ? 60000 : unit == 'h' ? 3600000 : unit == 'd' ? 86400000 : 0;
  if (mult == 0) return std::nullopt;
  const std::string digits = s.substr(0, s.size() - 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int64_t v = std::stoll(digits) * mult;
  if (v <= 0) return std::nullopt;
  return v;
}

namespace {

source_pos pos_of(const YAML::Node& n) {
  const auto m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

std::string content_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

class parser {
 public:
  parser(std::string file, load_result& out) : file_(std::move(file)), out_(out) {}

  void fail(const YAML::Node& at, const std::string& rule, const std::string& msg) {
    out_.diagnostics.push_back({file_, pos_of(at), rule, msg, false});
  }
  void warn(const YAML::Node& at, const std::string& rule, const std::string& msg) {
    out_.diagnostics.push_back({file_, pos_of(at), rule, msg, true});
  }

  void check_keys(const YAML::Node& map, const std::set<std::string>& known,
                  const std::string& rule, const char* what) {
    for (const auto& kv : map) {
      const auto k = kv.first.Scalar();
      if (!known.count(k))
        fail(kv.first, rule, std::string("unknown ") + what + " key " + quote_token(k));
    }
  }

  std::optional<term> keyword(const YAML::Node& n, const std::string& rule) {
    if (!n.IsScalar()) {
      fail(n, rule, "a keyword must be a string");
      return std::nullopt;
    }
    term t{n.Scalar(), pos_of(n)};
    if (t.text.empty()) {
      fail(n, rule, "empty keyword");
      return std::nullopt;
    }
    if (!is_valid_utf8(t.text)) {
      fail(n, rule, "keyword is not valid UTF-8");
      return std::nullopt;
    }
    return t;
  }

  // A list of keywords (or one keyword written as a scalar).
  std::vector<term> keywords(const YAML::Node& n, const std::string& rule) {
    std::vector<term> v;
    if (!n) return v;
    if (n.IsScalar()) {
      if (auto t = keyword(n, rule)) v.push_back(*t);
      return v;
    }
    if (!n.IsSequence()) {
      fail(n, rule, "expected a list of keywords");
      return v;
    }
    for (const auto& e : n)
      if (auto t = keyword(e, rule)) v.push_back(*t);
    return v;
  }

  void parse_boundary(const YAML::Node& b, rule& r) {
    const std::string v = b.IsScalar() ? b.Scalar() : "";
    if (v == "score") r.boundary = boundary_mode::score;
    else if (v == "word") r.boundary = boundary_mode::word;
    else if (v == "off") r.boundary = boundary_mode::off;
    else fail(b, r.id, "boundary must be word, score or off, is " + quote_token(v));
  }

  void parse_rule(const YAML::Node& n, keyword_set& set, std::set<std::string>& ids) {
    rule r;
    r.pos = pos_of(n);
    if (!n.IsMap()) {
      fail(n, "", "a rule must be a map");
      return;
    }
    if (!n["id"] || !n["id"].IsScalar() || n["id"].Scalar().empty()) {
      fail(n, "", "a rule needs an id");
      return;
    }
    r.id = n["id"].Scalar();
    if (!ids.insert(r.id).second) fail(n["id"], r.id, "duplicate rule id");
    check_keys(n, {"id", "any", "all", "none", "within", "regex", "severity", "tags", "boundary"},
               r.id, "rule");
    if (const auto b = n["boundary"]) parse_boundary(b, r);
    r.any = keywords(n["any"], r.id);
    if (const auto all = n["all"]) {
      if (!all.IsSequence()) {
        fail(all, r.id, "all: expected a list (of keywords or of keyword lists)");
      } else {
        for (const auto& g : all) {
          auto group = keywords(g, r.id);
          if (!group.empty()) r.all.push_back(std::move(group));
        }
      }
    }
    r.none = keywords(n["none"], r.id);
    if (const auto w = n["within"]) {
      if (!YAML::convert<int>::decode(w, r.within) || r.within < 1 || r.within > 100000) {
        fail(w, r.id, "within must be a number of characters between 1 and 100000");
      }
    }
    if (const auto re = n["regex"]) {
      if (auto t = keyword(re, r.id)) r.regex = *t;
    }
    if (const auto s = n["severity"]) {
      const auto v = s.Scalar();
      if (v == "info") r.level = severity::info;
      else if (v == "warning") r.level = severity::warning;
      else if (v == "critical") r.level = severity::critical;
      else fail(s, r.id, "severity must be info, warning or critical, is " + quote_token(v));
    }
    if (const auto t = n["tags"]) {
      for (const auto& e : t) r.tags.push_back(e.Scalar());
    }
    if (r.any.empty() && r.all.empty() && !r.regex) {
      fail(n, r.id, "a rule needs any, all or regex");
      return;
    }
    const size_t parts = (r.any.empty() ? 0 : 1) + r.all.size() + (r.regex ? 1 : 0);
    if (r.within > 0 && parts < 2) warn(n["within"], r.id, "within has no effect on a rule with one part");
    set.rules.push_back(std::move(r));
  }

  void parse_alert(const YAML::Node& n, keyword_set& set) {
    if (!n.IsMap() || !n["kind"]) {
      fail(n, "", "an alert needs a kind (immediate, threshold, spike, spread)");
      return;
    }
    alert_rule a;
    a.pos = pos_of(n);
    a.kind = n["kind"].Scalar();
    static const std::map<std::string, std::set<std::string>> params = {
        {"immediate", {"min_severity"}},
        {"threshold", {"window", "count"}},
        {"spike", {"window", "baseline", "factor", "min_count"}},
        {"spread", {"window", "count", "distinct"}}};
    const auto kind = params.find(a.kind);
    if (kind == params.end()) {
      fail(n["kind"], "",
           "unknown alert kind " + quote_token(a.kind) + " (immediate, threshold, spike, spread)");
      return;
    }
    a.id = a.kind + "-" + std::to_string(set.alerts.size() + 1);
    const size_t errors = out_.error_count();
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "kind") continue;
      if (!v.IsScalar()) {
        fail(v, "", "alert parameter " + quote_token(key) + " must be a scalar");
        continue;
      }
      const std::string s = v.Scalar();
      auto duration = [&](int64_t& out) {
        if (auto d = parse_duration(s)) out = *d;
        else fail(v, "", key + ": a duration like 90s, 10m, 24h or 7d");
      };
      auto positive = [&](uint64_t& out) {
        long long x = 0;
        if (YAML::convert<long long>::decode(v, x) && x > 0) out = static_cast<uint64_t>(x);
        else fail(v, "", key + ": a whole number above 0");
      };
      if (key == "id") {
        a.id = s;
      } else if (key == "level") {
        if (auto l = parse_alert_level(s)) a.level = *l;
        else fail(v, "", "level must be blue, yellow, orange or red");
      } else if (key == "rule") {
        a.rule = s;
      } else if (key == "resolve_after") {
        duration(a.resolve_after_ms);
      } else if (!kind->second.count(key)) {
        fail(kv.first, "", "alert kind " + a.kind + " has no parameter " + quote_token(key));
      } else if (key == "min_severity") {
        if (s == "info") a.min_severity = severity::info;
        else if (s == "warning") a.min_severity = severity::warning;
        else if (s == "critical") a.min_severity = severity::critical;
        else fail(v, "", "min_severity must be info, warning or critical");
      } else if (key == "window") {
        duration(a.window_ms);
      } else if (key == "baseline") {
        duration(a.baseline_ms);
      } else if (key == "count" || key == "min_count") {
        positive(a.count);
      } else if (key == "factor") {
        if (!YAML::convert<double>::decode(v, a.factor) || !(a.factor > 0))
          fail(v, "", "factor: a number above 0");
      } else if (key == "distinct") {
        if (s != "author" && s != "source") fail(v, "", "distinct must be author or source");
        a.distinct = s;
      }
    }
    for (const auto& need : kind->second) {
      if (need == "min_severity" || need == "distinct" || n[need]) continue;
      fail(n, "", "alert kind " + a.kind + " needs " + need);
    }
    if (a.kind == "spike" && a.baseline_ms > 0 && a.baseline_ms < a.window_ms)
      fail(n["baseline"], "", "baseline must be at least as long as window");
    for (const auto& other : set.alerts)
      if (other.id == a.id) fail(n, "", "alert id " + quote_token(a.id) + " is used twice");
    if (out_.error_count() == errors) set.alerts.push_back(std::move(a));
  }

  // plan_item, normalize, whole_words, allow and the precision settings of a set.
  void parse_settings(const YAML::Node& root, keyword_set& set) {
  if (const auto p = root["plan_item"]) {
    if (!YAML::convert<int>::decode(p, set.plan_item) || set.plan_item < 0) {
      fail(p, "", "plan_item must be an item number of the plan");
    }
  }
  if (const auto n = root["normalize"]) {
    set.normalize = 0;
    for (const auto& o : n) {
      auto f = parse_normalize_option(o.Scalar());
      if (f) set.normalize |= *f;
      else fail(o, "", f.error_message());
    }
  }
  if (const auto w = root["whole_words"]) {
    if (!YAML::convert<bool>::decode(w, set.whole_words)) fail(w, "", "whole_words: true or false");
  }
  set.allow = keywords(root["allow"], "");
  if (const auto t = root["precision_threshold"]) {
    if (!YAML::convert<double>::decode(t, set.precision_threshold) || !(set.precision_threshold >= 0) ||
        set.precision_threshold > 1)
      fail(t, "", "precision_threshold: a number from 0 to 1");
  }
  if (const auto m = root["precision_min_judged"]) {
    int64_t n = 0;
    if (!YAML::convert<int64_t>::decode(m, n) || n < 1) fail(m, "", "precision_min_judged: a count of at least 1");
    else set.precision_min_judged = static_cast<uint64_t>(n);
  }
  }

  // The set's alert rules, each naming a rule of the set (or none: every rule).
  void parse_alerts(const YAML::Node& root, keyword_set& set) {
  if (const auto alerts = root["alerts"]) {
    if (!alerts.IsSequence()) fail(alerts, "", "alerts: expected a list");
    else for (const auto& a : alerts) parse_alert(a, set);
    for (size_t i = 0; i < set.alerts.size(); ++i) {
      const auto& a = set.alerts[i];
      const bool known = a.rule.empty() || std::any_of(set.rules.begin(), set.rules.end(),
                                                       [&](const rule& r) { return r.id == a.rule; });
      if (!known)
        out_.diagnostics.push_back({file_, a.pos, "",
                                    "alert " + quote_token(a.id) + ": no rule " +
                                        quote_token(a.rule) + " in this set",
                                    false});
    }
  }
  }

  void parse(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      out_.diagnostics.push_back(
          {file_, {e.mark.line + 1, e.mark.column + 1}, "", "YAML: " + e.msg, false});
      return;
    }
    if (!root.IsMap()) {
      fail(root, "", "a keyword set must be a map");
      return;
    }
    keyword_set set;
    set.file = file_;
    set.version = content_hash(text);
    set.text = text;
    set.normalize = norm_default;
    try {
      check_keys(root,
                 {"id", "name", "topic", "plan_item", "normalize", "whole_words", "allow", "rules",
                  "alerts", "precision_threshold", "precision_min_judged"},
                 "", "set");
      static const std::regex id_re("[A-Za-z0-9][A-Za-z0-9._-]*");
      if (!root["id"] || !root["id"].IsScalar() ||
          !std::regex_match(root["id"].Scalar(), id_re)) {
        fail(root["id"] ? root["id"] : root, "",
             "the set needs an id of letters, digits, '.', '_' or '-'");
      } else {
        set.id = root["id"].Scalar();
      }
      set.name = root["name"].as<std::string>(set.id);
      set.topic = root["topic"].as<std::string>(set.id);
      parse_settings(root, set);
      const auto rules = root["rules"];
      if (!rules || !rules.IsSequence() || rules.size() == 0) {
        fail(rules ? rules : root, "", "the set needs a non-empty list of rules");
      } else {
        std::set<std::string> ids;
        for (const auto& r : rules) parse_rule(r, set, ids);
      }
      parse_alerts(root, set);
    } catch (const YAML::Exception& e) {
      out_.diagnostics.push_back(
          {file_, {e.mark.line + 1, e.mark.column + 1}, "", "YAML: " + e.msg, false});
    }
    if (out_.error_count() == 0) check_set(set, text, file_, out_.diagnostics);
    if (out_.error_count() == 0) out_.set = std::move(set);
  }

 private:
  std::string file_;
  load_result& out_;
};

}  // namespace

const char* to_string(boundary_mode m) {
  static const char* const names[] = {"score", "word", "off"};
  return names[static_cast<int>(m)];
}

const char* to_string(severity s) {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "?";
}

std::string diagnostic::to_text() const {
  std::string s = file;
  if (pos.line) s += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  s += warning ? ": warning: " : ": error: ";
  if (!rule.empty()) s += "[rule " + rule + "] ";
  return s + message;
}

bool load_result::ok() const { return set.has_value() && error_count() == 0; }

size_t load_result::error_count() const {
  return std::count_if(diagnostics.begin(), diagnostics.end(),
                       [](const diagnostic& d) { return !d.warning; });
}

std::string load_result::to_text() const {
  std::string s;
  for (const auto& d : diagnostics) s += d.to_text() + "\n";
  return s;
}

std::string load_result::to_json() const {
  nlohmann::json j;
  j["ok"] = ok();
  if (set) {
    j["set"] = set->id;
    j["version"] = set->version;
    j["rules"] = set->rules.size();
  }
  j["errors"] = nlohmann::json::array();
  j["warnings"] = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    nlohmann::json e = {{"file", d.file}, {"line", d.pos.line}, {"column", d.pos.column},
                        {"rule", d.rule}, {"message", d.message}};
    j[d.warning ? "warnings" : "errors"].push_back(e);
  }
  return j.dump();
}

load_result parse_keyword_set(const std::string& yaml, const std::string& file) {
  load_result r;
  parser(file, r).parse(yaml);
  return r;
}

load_result load_keyword_set_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    load_result r;
    r.diagnostics.push_back({file.string(), {}, "", "cannot open", false});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_keyword_set(ss.str(), file.string());
}

std::vector<std::filesystem::path> keyword_set_files(const std::filesystem::path& p) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(p, ec)) {
    files.push_back(p);
    return files;
  }
  for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
    const auto ext = e.path().extension();
    if (!e.path().filename().string().starts_with(".") && (ext == ".yaml" || ext == ".yml"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string refused_set_file(const std::filesystem::path& dir, const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::symlink_status(file, ec);
  if (ec) return "cannot read: " + ec.message();
  if (!fs::is_symlink(st)) return fs::is_regular_file(st) ? "" : "not a regular file; not read";
  const auto target = fs::canonical(file, ec);
  if (ec) return "a link that leads nowhere; not read";
  const auto root = fs::canonical(dir, ec);
  const auto inside = target.lexically_relative(root);
  if (ec || inside.empty() || *inside.begin() == "..")
    return "a link that leads out of the keyword-set directory; not read";
  if (!fs::is_regular_file(target, ec))
    return "a link to something that is not a regular file; not read";
  return "";
}

std::string quote_token(std::string_view text) {
  constexpr size_t max_bytes = 64;
  std::string_view t = text.substr(0, text.find_first_of("\r\n"));
  const bool cut = t.size() < text.size() || t.size() > max_bytes;
  if (t.size() > max_bytes) {
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(t[end]) & 0xC0) == 0x80) --end;
    t = t.substr(0, end);
  }
  return "'" + std::string(t) + (cut ? "…'" : "'");
}

}  // namespace yuqing::matchers
