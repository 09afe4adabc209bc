// apply_suggestion(): a suggestion written into its set file as a textual edit.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "matchers/keyword_set.h"
#include "precision/suggest.h"

namespace yuqing::precision {

namespace {

// The position of the bracket that closes the one at `open` ('[' or '{'), quotes skipped.
size_t closing(const std::string& text, size_t open) {
  const char o = text[open], c = o == '[' ? ']' : '}';
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < text.size(); ++i) {
    const char ch = text[i];
    if (quote) {
      if (ch == '\\' && quote == '"') ++i;
      else if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == o) {
      ++depth;
    } else if (ch == c && --depth == 0) {
      return i;
    }
  }
  return std::string::npos;
}

size_t line_end(const std::string& text, size_t pos) {
  const auto nl = text.find('\n', pos);
  return nl == std::string::npos ? text.size() : nl;
}

result<std::string> add_to_flow(std::string text, const YAML::Node& list, const std::string& item) {
  const size_t open = list.Mark().pos;
  if (open >= text.size() || text[open] != '[') return error{"the list is not where yaml-cpp says"};
  const size_t close = closing(text, open);
  if (close == std::string::npos) return error{"the list has no closing bracket"};
  text.insert(close, (list.size() > 0 ? ", " : "") + item);
  return text;
}

result<std::string> add_to_block(std::string text, const YAML::Node& list, const std::string& item) {
  const auto last = list[list.size() - 1].Mark();
  const size_t start = text.rfind('\n', last.pos) == std::string::npos ? 0 : text.rfind('\n', last.pos) + 1;
  const std::string prefix = text.substr(start, last.pos - start);  // indentation and "- "
  if (prefix.find_first_not_of(" -") != std::string::npos) return error{"a list item shares its line"};
  text.insert(line_end(text, last.pos), "\n" + prefix + item);
  return text;
}

// Adds `item` to the list `key` of the map `parent` (created when absent).
result<std::string> add_item(std::string text, const YAML::Node& parent, const std::string& key,
                             const std::string& item, bool top) {
  if (const auto list = parent[key]) {
    if (!list.IsSequence()) return error{key + " is not a list"};
    if (list.Style() == YAML::EmitterStyle::Flow || list.size() == 0) return add_to_flow(text, list, item);
    return add_to_block(text, list, item);
  }
  if (top) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text + key + ": [" + item + "]\n";
  }
  if (parent.Style() == YAML::EmitterStyle::Flow) {
    const size_t open = parent.Mark().pos, close = closing(text, open);
    if (open >= text.size() || text[open] != '{' || close == std::string::npos) return error{"the rule's map is not where yaml-cpp says"};
    text.insert(close, ", " + key + ": [" + item + "]");
    return text;
  }
  const auto id = parent["id"].Mark();
  text.insert(line_end(text, id.pos), "\n" + std::string(static_cast<size_t>(parent.Mark().column), ' ') + key + ": [" + item + "]");
  return text;
}

bool holds(const matchers::keyword_set& set, const suggestion& s) {
  auto has = [&](const std::vector<matchers::term>& v) {
    return std::any_of(v.begin(), v.end(), [&](const matchers::term& t) { return t.text == s.text; });
  };
  if (s.kind == "allow") return has(set.allow);
  for (const auto& r : set.rules)
    if (r.id == s.rule) return has(r.none);
  return false;
}

result<std::string> edited(const std::string& text, const suggestion& s) {
  const std::string item = nlohmann::json(s.text).dump();
  try {
    const YAML::Node root = YAML::Load(text);
    if (s.kind == "allow") return add_item(text, root, "allow", item, true);
    for (const auto& r : root["rules"])
      if (r["id"] && r["id"].Scalar() == s.rule) return add_item(text, r, "none", item, false);
    return error{"no rule " + s.rule + " in the file"};
  } catch (const YAML::Exception& e) {
    return error{std::string("YAML: ") + e.what()};
  }
}

}  // namespace

result<std::string> apply_suggestion(const std::filesystem::path& file, const suggestion& s) {
  if (s.kind != "allow" && s.kind != "none") return error{"kind: allow or none"};
  std::ifstream in(file);
  if (!in) return error{file.string() + ": cannot read"};
  std::stringstream buf;
  buf << in.rdbuf();
  auto out = edited(buf.str(), s);
  if (!out) return error{file.string() + ": " + out.error_message()};
  const auto parsed = matchers::parse_keyword_set(*out, file.string());
  if (!parsed.ok() || !holds(*parsed.set, s))
    return error{file.string() + ": the edit does not give a valid set holding " + s.text + " (file unchanged)\n" + parsed.to_text()};
  // A name starting with '.' is not read as a set while it is written.
  const auto tmp = file.parent_path() / ("." + file.filename().string() + ".suggestion");
  {
    std::ofstream o(tmp, std::ios::trunc);
    o << *out;
    o.flush();
    if (!o) return error{tmp.string() + ": cannot write"};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return error{file.string() + ": cannot replace: " + ec.message()};
  }
  return *out;
}

}  // namespace yuqing::precision
