// The key table (config/keys.cc), the loader and the shipped config/yuqing.yaml agree:
// every key is documented in the file with its default, bounds and restart mark, no key
// of the file is unknown, every default is accepted by its own key and is what a file
// without the key gives, and every bound is enforced with an error naming the key.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.h"

using namespace yuqing;

namespace {

const std::string kChannels = "channels:\n  - {topic: t}\n";

bool declared(const std::string& name) {
  for (const auto& k : config::keys())
    if (k.name == name) return true;
  return false;
}

bool parent_of_declared(const std::string& name) {
  for (const auto& k : config::keys())
    if (k.name.rfind(name + ".", 0) == 0) return true;
  return false;
}

// "key" of a line "key: ..." or "key:", else "".
std::string key_of(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) ++i;
  if (i == 0 || i >= s.size() || s[i] != ':') return "";
  if (i + 1 < s.size() && s[i + 1] != ' ') return "";
  return s.substr(0, i);
}

struct yaml_docs {
  std::map<std::string, std::string> doc;  // declared key -> its comments
  std::vector<std::string> undeclared;     // keys of the file that no row declares
};

// Reads the sample configuration as its reader does: a key's documentation is the block of
// comment lines right above it and the comment on its own line. A key may be shown
// commented out ("# cache_dir: ..."), when its default is empty.
yaml_docs read_docs(const std::string& text) {
  yaml_docs out;
  std::vector<std::pair<size_t, std::string>> parents;  // indent, name
  std::string block;
  size_t leaf_indent = std::string::npos;  // lines deeper than a leaf are its value
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) {
      block.clear();
      continue;
    }
    if (leaf_indent != std::string::npos && indent > leaf_indent) continue;
    leaf_indent = std::string::npos;
    const auto rest = line.substr(indent);
    const bool commented = rest.rfind("# ", 0) == 0;
    const auto key = key_of(commented ? rest.substr(2) : rest);
    while (!parents.empty() && parents.back().first >= indent) parents.pop_back();
    std::string full;
    for (const auto& p : parents) full += p.second + ".";
    full += key;
    if (key.empty() || (commented && !declared(full))) {
      if (rest[0] == '#') block += rest + "\n";
      else block.clear();
      continue;
    }
    if (declared(full)) {
      const auto trailing = commented ? std::string::npos : line.find(" #");
      out.doc[full] = block + (trailing == std::string::npos ? "" : line.substr(trailing));
      leaf_indent = indent;
    } else if (parent_of_declared(full)) {
      parents.emplace_back(indent, key);
    } else {
      out.undeclared.push_back(full);
    }
    block.clear();
  }
  return out;
}

// How the file shows a key's default after "Default: ".
std::string shown_default(const config::key_spec& k) {
  return k.default_value.empty() ? "empty" : k.default_value;
}

// "Default: X" followed by the end, a full stop, a space, a comma or a bracket.
bool says_default(const std::string& doc, const std::string& value) {
  const std::string want = "Default: " + value;
  for (auto at = doc.find(want); at != std::string::npos; at = doc.find(want, at + 1)) {
    const auto end = at + want.size();
    if (end == doc.size() || std::string(". ,)\n").find(doc[end]) != std::string::npos)
      return true;
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file giving `name` the YAML `value` (and the one channel every file needs).
std::string with_key(const std::string& name, const std::string& value) {
  YAML::Node root = YAML::Load(kChannels);
  YAML::Node at = root;
  std::string rest = name;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    at.reset(at[rest.substr(0, dot)]);
    rest = rest.substr(dot + 1);
  }
  at[rest] = YAML::Load(value);
  YAML::Emitter e;
  e << root;
  return e.c_str();
}

}  // namespace

TEST_CASE("config/yuqing.yaml documents every key with its default, bounds and restart mark", "[config]") {
  const auto docs = read_docs(read_file(YUQING_SOURCE_DIR "/config/yuqing.yaml"));
  CHECK(docs.undeclared.empty());
  for (const auto& u : docs.undeclared) FAIL_CHECK("config/yuqing.yaml: unknown key " << u);
  for (const auto& k : config::keys()) {
    INFO(k.name);
    REQUIRE(docs.doc.count(k.name));
    const auto& doc = docs.doc.at(k.name);
    INFO(doc);
    CHECK((doc.find("(R)") != std::string::npos) == k.needs_restart);
    if (k.type == "channels") {
      CHECK(doc.find("Required") != std::string::npos);
    } else {
      CHECK(says_default(doc, shown_default(k)));
    }
    if (k.type == "integer")
      CHECK(doc.find(std::to_string(k.min) + ".." + std::to_string(k.max)) != std::string::npos);
    for (const auto& c : k.choices) CHECK(doc.find(c) != std::string::npos);
  }
}

TEST_CASE("the reader of the sample's documentation finds keys, comments and strangers", "[config]") {
  const auto docs = read_docs(
      "# about kafka\nkafka:\n  # (R) Default: x.\n  brokers: x  # more\n  brokerz: y\n"
      "  # (R) the group\n  # group_id: g\n");
  CHECK(docs.doc.at("kafka.brokers") == "# (R) Default: x.\n # more");
  CHECK(docs.doc.at("kafka.group_id") == "# (R) the group\n");
  CHECK(docs.undeclared == std::vector<std::string>{"kafka.brokerz"});
  CHECK(says_default("Default: 168 (7 days).", "168"));
  CHECK(!says_default("Default: 1680.", "168"));
}

TEST_CASE("every default is accepted by its own key and is what a file without the key gives", "[config]") {
  const auto bare = config::load_string(kChannels, "c.yaml", "/base");
  REQUIRE(bare.ok());
  config::daemon_config constructed;
  constructed.channels = bare->channels;
  CHECK(constructed == *bare);
  for (const auto& k : config::keys()) {
    INFO(k.name);
    if (k.type == "path") CHECK((k.default_value.empty() || k.default_value[0] == '/'));
    if (k.type == "integer") {
      REQUIRE(!k.default_value.empty());
      CHECK(k.min <= std::stoll(k.default_value));
      CHECK(std::stoll(k.default_value) <= k.max);
    }
    if (k.default_value.empty() || k.type == "channels") continue;
    const auto given = config::load_string(with_key(k.name, k.default_value), "c.yaml", "/base");
    INFO(with_key(k.name, k.default_value));
    REQUIRE(given.ok());
    CHECK(*given == *bare);
  }
}

TEST_CASE("every integer bound and every choice is enforced with an error naming the key", "[config]") {
  int checked = 0;
  for (const auto& k : config::keys()) {
    INFO(k.name);
    if (k.type == "integer") {
      CHECK(config::load_string(with_key(k.name, std::to_string(k.min)), "c.yaml", "/").ok());
      CHECK(config::load_string(with_key(k.name, std::to_string(k.max)), "c.yaml", "/").ok());
      for (const auto v : {k.min - 1, k.max + 1}) {
        const auto c = config::load_string(with_key(k.name, std::to_string(v)), "c.yaml", "/");
        REQUIRE(!c.ok());
        CHECK_THAT(c.error_message(),
                   Catch::Contains(k.name + ": must be between " + std::to_string(k.min) +
                                   " and " + std::to_string(k.max) + ", is " + std::to_string(v)));
      }
      ++checked;
    }
    if (k.choices.empty()) continue;
    for (const auto& choice : k.choices)
      CHECK(config::load_string(with_key(k.name, choice), "c.yaml", "/").ok());
    const auto c = config::load_string(with_key(k.name, "nonsense"), "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK_THAT(c.error_message(), Catch::Contains(k.name + ": must be ") &&
                                      Catch::Contains(", is 'nonsense'"));
    ++checked;
  }
  CHECK(checked > 30);
}
