#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "config/bindings.h"

namespace yuqing::config {
namespace {

namespace fs = std::filesystem;
using detail::bindings;
using detail::load_context;

YAML::Node find(const YAML::Node& n, std::string_view dotted) {
  const auto dot = dotted.find('.');
  const std::string part(dotted.substr(0, dot));
  if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node next = n[part];  // const access: never inserts
  if (!next || dot == std::string_view::npos) return next;
  return find(next, dotted.substr(dot + 1));
}

// Reports every key in the file that the table does not declare.
void check_unknown(const YAML::Node& n, const std::string& prefix, const std::string& name,
                   load_context& ctx) {
  if (!n.IsMap()) return;
  for (const auto& kv : n) {
    const auto key = prefix.empty() ? kv.first.as<std::string>()
                                    : prefix + "." + kv.first.as<std::string>();
    bool declared = false, parent = false;
    for (const auto& b : bindings()) {
      if (b.spec.name == key) declared = true;
      if (b.spec.name.rfind(key + ".", 0) == 0) parent = true;
    }
    if (declared) continue;
    if (parent) {
      check_unknown(kv.second, key, name, ctx);
      continue;
    }
    ctx.problems.push_back(name + ":" + std::to_string(kv.first.Mark().line + 1) + ": " + key +
                           ": unknown key");
  }
}

// What no single key can check: values that must agree, and formats of strings.
std::string validate(const daemon_config& c) {
  if (c.kafka_brokers.empty()) return "kafka.brokers: must not be empty";
  if (c.http_listen.find(':') == std::string::npos) return "http.listen: expected HOST:PORT";
  for (const auto& ch : c.channels) {
    if (ch.topic == c.dead_letter_topic)
      return "channels: topic '" + ch.topic + "' is also the dead-letter topic";
  }
  return "";
}

// Applies the keys the file gives; each problem names the file, line and key.
void apply_file(const YAML::Node& root, const std::string& name, daemon_config& c,
                load_context& ctx) {
  for (const auto& b : bindings()) {
    const YAML::Node n = find(root, b.spec.name);
    if (!n) continue;  // the default stands
    std::string err;
    try {
      err = b.apply(c, n, ctx);
    } catch (const YAML::Exception& e) {
      err = e.msg;
    }
    if (!err.empty()) {
      ctx.problems.push_back(name + ":" + std::to_string(n.Mark().line + 1) + ": " + b.spec.name +
                             ": " + err);
    }
  }
}

}  // namespace

const char* to_string(channel_kind k) {
  switch (k) {
    case channel_kind::post: return "post";
    case channel_kind::news: return "news";
    case channel_kind::mailbox: return "mailbox";
    case channel_kind::mailbox_reply: return "mailbox-reply";
  }
  return "?";
}

std::vector<std::string> daemon_config::secrets() const {
  static const char* const marks[] = {"password", "secret", "passphrase", "oauthbearer.config",
                                      "key.pem", "jaas", "token"};
  std::vector<std::string> out;
  if (!http_token.empty()) out.push_back(http_token);
  for (const auto& [k, v] : kafka_properties) {
    const bool named = std::any_of(std::begin(marks), std::end(marks),
                                   [&](const char* m) { return k.find(m) != std::string::npos; });
    if (!v.empty() && (named || kafka_referenced.count(k))) out.push_back(v);
  }
  return out;
}

// Every key at the default its row declares. A default that its own row refuses is a bug
// of the table that config_test finds (it loads a file giving every default).
daemon_config::daemon_config() {
  load_context ctx;
  for (const auto& b : bindings()) {
    if (!b.spec.default_value.empty()) b.apply(*this, YAML::Load(b.spec.default_value), ctx);
  }
}

const std::vector<key_spec>& keys() {
  static const std::vector<key_spec> specs = [] {
    std::vector<key_spec> v;
    for (const auto& b : bindings()) v.push_back(b.spec);
    return v;
  }();
  return specs;
}

result<daemon_config> load_string(const std::string& yaml, const std::string& name,
                                  const fs::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return error{name + ":" + std::to_string(e.mark.line + 1) + ":" +
                 std::to_string(e.mark.column + 1) + ": " + e.msg};
  }
  load_context ctx{base_dir, {}};
  daemon_config c;
  if (!root.IsNull() && !root.IsMap()) return error{name + ": the configuration must be a map"};
  check_unknown(root, "", name, ctx);
  apply_file(root, name, c, ctx);
  if (c.channels.empty() && !find(root, "channels")) {
    ctx.problems.push_back(name + ": channels: at least one channel is needed");
  }
  if (ctx.problems.empty()) {
    if (auto err = validate(c); !err.empty()) ctx.problems.push_back(name + ": " + err);
  }
  if (!ctx.problems.empty()) {
    std::string all;
    for (const auto& p : ctx.problems) all += (all.empty() ? "" : "\n") + p;
    return error{all};
  }
  return c;
}

result<daemon_config> load_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return error{file.string() + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), file.string(), fs::absolute(file).parent_path());
}

}  // namespace yuqing::config
