// Internal to config/: how the loader applies each declared key. The table itself is in
// keys.cc; the parsers of the keys with a structure of their own (channels, properties,
// units, people, ...) in values.cc. Not thread-safe to build, read-only after (bindings()
// is a function-local static).
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"

namespace yuqing::config::detail {

struct load_context {
  std::filesystem::path base_dir;  // relative paths in the file resolve against it
  std::vector<std::string> problems;
};

// Applies a key's YAML value to the config; returns "" or what is wrong (without the key
// name, which the loader adds with the line).
using apply_fn = std::function<std::string(daemon_config&, const YAML::Node&, load_context&)>;

struct binding {
  key_spec spec;
  apply_fn apply;
};

// Every key, in the order of keys().
const std::vector<binding>& bindings();

// The keys with a structure of their own (values.cc).
std::string apply_properties(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_channels(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_close_levels(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_deadlines(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_default_deadline(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_token(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_units(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_people(daemon_config& c, const YAML::Node& n, load_context& ctx);
std::string apply_risk_policies(daemon_config& c, const YAML::Node& n, load_context& ctx);

}  // namespace yuqing::config::detail
