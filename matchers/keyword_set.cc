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
  parser(std::string file, load_result& out, const section_check& checks)
      : file_(std::move(file)), out_(out), checks_(checks) {}

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
      if (const auto level = common::parse_severity(v)) r.level = *level;
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
                  "alerts", "precision_threshold", "precision_min_judged"},  // alerts: alerting/rules.h
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
      if (checks_) {
        auto more = checks_(set);
        out_.diagnostics.insert(out_.diagnostics.end(), more.begin(), more.end());
      }
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
  const section_check& checks_;
};

}  // namespace

const char* to_string(boundary_mode m) {
  static const char* const names[] = {"score", "word", "off"};
  return names[static_cast<int>(m)];
}

bool load_result::ok() const { return set.has_value() && error_count() == 0; }

size_t load_result::error_count() const { return common::error_count(diagnostics); }

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

load_result parse_keyword_set(const std::string& yaml, const std::string& file, const section_check& checks) {
  load_result r;
  parser(file, r, checks).parse(yaml);
  return r;
}

namespace {

std::optional<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<std::string> declared_set_id(const std::filesystem::path& file) {
  const auto yaml = read_file(file);
  if (!yaml) return std::nullopt;
  try {
    const YAML::Node root = YAML::Load(*yaml);
    if (root.IsMap() && root["id"] && root["id"].IsScalar() && !root["id"].Scalar().empty())
      return root["id"].Scalar();
  } catch (const YAML::Exception&) {
  }
  return std::nullopt;
}

load_result load_keyword_set_file(const std::filesystem::path& file, const section_check& checks) {
  const auto text = read_file(file);
  if (!text) {
    load_result r;
    r.diagnostics.push_back({file.string(), {}, "", "cannot open", false});
    return r;
  }
  return parse_keyword_set(*text, file.string(), checks);
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

}  // namespace yuqing::matchers
