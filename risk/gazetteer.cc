#include "risk/gazetteer.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/utf8.h"
#include "risk/text.h"

namespace yuqing::risk {

namespace {

using detail::chars;

// "NAME:LINE:COLUMN: " of a node, the column in characters (yaml-cpp counts bytes).
std::string at(const std::string& name, const std::string& yaml, const YAML::Node& n) {
  const auto m = n.Mark();
  size_t begin = 0;
  for (int l = 0; l < m.line && begin != std::string::npos; ++l) begin = yaml.find('\n', begin) + 1;
  const size_t column = begin == std::string::npos ? static_cast<size_t>(m.column)
                                                   : chars(std::string_view(yaml).substr(begin, m.column));
  return name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(column + 1) + ": ";
}

}  // namespace

result<gazetteer> gazetteer::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return error{file.string() + ": cannot be read"};
  std::stringstream s;
  s << in.rdbuf();
  return parse(s.str(), file.string());
}

result<gazetteer> gazetteer::parse(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return error{name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg};
  }
  if (!root.IsMap() || !root["regions"] || !root["regions"].IsSequence())
    return error{name + ":1:1: expected `regions:` with a list of {name, aliases}"};
  gazetteer g;
  std::string problems;
  auto claim = [&](const std::string& word, const std::string& region, const YAML::Node& where) {
    if (word.empty() || !common::is_valid_utf8(word)) {
      problems += at(name, yaml, where) + "an empty name or alias, or invalid UTF-8\n";
      return;
    }
    auto [it, fresh] = g.lookup_.emplace(word, region);
    if (!fresh && it->second != region)
      problems += at(name, yaml, where) + "「" + word + "」 already stands for " + it->second + "\n";
    g.longest_ = std::max(g.longest_, chars(word));
  };
  for (const auto& r : root["regions"]) {
    if (!r.IsMap() || !r["name"] || !r["name"].IsScalar()) {
      problems += at(name, yaml, r) + "a region needs a name\n";
      continue;
    }
    const std::string region = r["name"].as<std::string>();
    g.names_.push_back(region);
    claim(region, region, r["name"]);
    if (!r["aliases"]) continue;
    if (!r["aliases"].IsSequence()) {
      problems += at(name, yaml, r["aliases"]) + "aliases: expected a list\n";
      continue;
    }
    for (const auto& a : r["aliases"]) {
      if (!a.IsScalar()) problems += at(name, yaml, a) + "an alias is a string\n";
      else claim(a.as<std::string>(), region, a);
    }
  }
  if (!problems.empty()) {
    problems.pop_back();
    return error{problems};
  }
  return g;
}

std::string gazetteer::canonical(std::string_view name_or_alias) const {
  auto it = lookup_.find(std::string(name_or_alias));
  return it == lookup_.end() ? std::string() : it->second;
}

std::string gazetteer::place(std::string_view field, std::string_view text) const {
  if (!field.empty()) {
    auto known = canonical(field);
    return known.empty() ? std::string(field) : known;
  }
  if (lookup_.empty()) return {};
  const auto b = detail::boundaries(text);
  const size_t n = b.size() - 1;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = std::min(n, i + longest_); j > i; --j)
      if (auto it = lookup_.find(std::string(text.substr(b[i], b[j] - b[i]))); it != lookup_.end())
        return it->second;
  return {};
}

}  // namespace yuqing::risk
