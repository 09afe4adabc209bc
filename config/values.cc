// The parsers of the keys with a structure of their own: channels, Kafka properties (and
// the secrets they may name), alert levels, mailbox deadlines, units and the people file.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/bindings.h"

namespace yuqing::config::detail {
namespace {

namespace fs = std::filesystem;

// Converts "a.b" to the JSON pointer "/a/b"; a value that already is a pointer stays.
std::string to_pointer(const std::string& dotted) {
  if (dotted.empty() || dotted[0] == '/') return dotted;
  std::string p = "/";
  for (char c : dotted) p += (c == '.') ? '/' : c;
  return p;
}

// "15d" (working days) or "36h" (working hours).
bool is_deadline(const std::string& v) {
  if (v.size() < 2 || (v.back() != 'd' && v.back() != 'h') || v.size() > 7) return false;
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i] < '0' || v[i] > '9') return false;
  return std::stoi(v.substr(0, v.size() - 1)) > 0;
}

// A property value may name where the secret lives instead of holding it:
// "${env:NAME}" reads an environment variable, "${file:PATH}" reads a file (relative to
// the config file, one trailing newline dropped). Errors name the property and the source,
// never a value.
std::string resolve_secret(const std::string& key, const std::string& value, load_context& ctx,
                           std::string& out) {
  out = value;
  if (value.size() < 4 || value.rfind("${", 0) != 0 || value.back() != '}') return "";
  const std::string ref = value.substr(2, value.size() - 3);
  if (ref.rfind("env:", 0) == 0) {
    const std::string name = ref.substr(4);
    const char* v = std::getenv(name.c_str());
    if (!v) return "property " + key + ": environment variable " + name + " is not set";
    out = v;
    return "";
  }
  if (ref.rfind("file:", 0) == 0) {
    fs::path path = ref.substr(5);
    if (path.is_relative()) path = ctx.base_dir / path;
    std::ifstream in(path, std::ios::binary);
    if (!in) return "property " + key + ": cannot read secret file " + path.string();
    std::ostringstream text;
    text << in.rdbuf();
    out = text.str();
    if (!out.empty() && out.back() == '\n') out.pop_back();
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return "";
  }
  return "property " + key + ": unknown reference '${" + ref.substr(0, ref.find(':')) +
         ":...}' (use ${env:NAME} or ${file:PATH})";
}

// The people file of http.people; "" or what is wrong, with the file and line.
std::string load_people(const fs::path& path, std::vector<daemon_config::person>& out) {
  static const std::set<std::string> roles = {"viewer", "officer", "analyst", "admin"};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    return path.string() + ": " + e.what();
  }
  if (!root["people"] || !root["people"].IsSequence()) return path.string() + ": expected people: [...]";
  out.clear();
  for (const auto& p : root["people"]) {
    const std::string at = path.string() + ":" + std::to_string(p.Mark().line + 1) + ": ";
    if (!p.IsMap()) return at + "expected {name, unit, role, token_sha256}";
    daemon_config::person who;
    const std::pair<const char*, std::string*> fields[] = {
        {"name", &who.name}, {"unit", &who.unit}, {"role", &who.role}, {"token_sha256", &who.token_sha256}};
    for (const auto& [field, value] : fields) {
      if (!p[field] || !p[field].IsScalar() || p[field].as<std::string>().empty()) return at + field + ": required";
      *value = p[field].as<std::string>();
    }
    if (!roles.count(who.role)) return at + "role: viewer, officer, analyst or admin, not '" + who.role + "'";
    if (who.token_sha256.size() != 64 ||
        who.token_sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      return at + "token_sha256: 64 lower-case hex digits (printf %s TOKEN | sha256sum)";
    out.push_back(std::move(who));
  }
  return "";
}

std::string parse_fields(field_map& f, const YAML::Node& n) {
  if (!n) return "";
  if (!n.IsMap()) return "fields: expected a map";
  static const std::set<std::string> known = {"id",     "text", "time",   "author",  "source",
                                              "url", "region", "title", "category"};
  for (const auto& kv : n) {
    const auto k = kv.first.as<std::string>();
    if (!known.count(k)) return "fields: unknown field '" + k + "'";
  }
  auto one = [&](const char* key, std::string& out) {
    if (n[key]) out = to_pointer(n[key].as<std::string>());
  };
  one("id", f.id);
  one("time", f.time);
  one("author", f.author);
  one("source", f.source);
  one("url", f.url);
  one("region", f.region);
  one("title", f.title);
  one("category", f.category);
  if (const auto t = n["text"]) {
    f.text.clear();
    if (t.IsScalar()) f.text.push_back(to_pointer(t.as<std::string>()));
    else
      for (const auto& e : t) f.text.push_back(to_pointer(e.as<std::string>()));
    if (f.text.empty()) return "fields.text: at least one text field is needed";
  }
  return "";
}

// One entry of channels; "" or what is wrong.
std::string parse_channel(const YAML::Node& e, channel& ch) {
  if (!e.IsMap()) return "a channel is a map";
  static const std::set<std::string> known = {"name", "topic", "kind", "format", "fields",
                                              "offset_gaps"};
  for (const auto& kv : e) {
    if (!known.count(kv.first.as<std::string>()))
      return "unknown channel key '" + kv.first.as<std::string>() + "'";
  }
  if (!e["topic"]) return "a channel needs a topic";
  ch.topic = e["topic"].as<std::string>();
  ch.name = e["name"] ? e["name"].as<std::string>() : ch.topic;
  const auto kind = e["kind"] ? e["kind"].as<std::string>() : "post";
  if (kind == "post") ch.kind = channel_kind::post;
  else if (kind == "news") ch.kind = channel_kind::news;
  else if (kind == "mailbox") ch.kind = channel_kind::mailbox;
  else if (kind == "mailbox-reply") ch.kind = channel_kind::mailbox_reply;
  else return "kind must be post, news, mailbox or mailbox-reply, is '" + kind + "'";
  const auto format = e["format"] ? e["format"].as<std::string>() : "json";
  if (format == "json") ch.format = channel_format::json;
  else if (format == "text") ch.format = channel_format::text;
  else return "format must be json or text, is '" + format + "'";
  if (auto err = parse_fields(ch.fields, e["fields"]); !err.empty()) return err;
  const auto gaps = e["offset_gaps"] ? e["offset_gaps"].as<std::string>() : "lost";
  if (gaps != "lost" && gaps != "expected")
    return "offset_gaps must be lost or expected, is '" + gaps + "'";
  ch.gaps_expected = gaps == "expected";
  return "";
}

}  // namespace

std::string apply_properties(daemon_config& c, const YAML::Node& n, load_context& ctx) {
  if (n.IsNull()) return "";
  if (!n.IsMap()) return "expected a map of librdkafka properties";
  for (const auto& kv : n) {
    const auto key = kv.first.as<std::string>();
    if (!kv.second.IsScalar()) return "property " + key + " is not a scalar";
    std::string value;
    if (auto e = resolve_secret(key, kv.second.as<std::string>(), ctx, value); !e.empty()) return e;
    if (value != kv.second.as<std::string>()) c.kafka_referenced.insert(key);
    c.kafka_properties[key] = value;
  }
  return "";
}

std::string apply_channels(daemon_config& c, const YAML::Node& n, load_context&) {
  if (!n.IsSequence()) return "expected a list of channels";
  c.channels.clear();
  std::set<std::string> names, topics;
  for (const auto& e : n) {
    const auto where = "line " + std::to_string(e.Mark().line + 1) + ": ";
    channel ch;
    if (auto err = parse_channel(e, ch); !err.empty()) return where + err;
    if (!names.insert(ch.name).second) return where + "duplicate channel name '" + ch.name + "'";
    if (!topics.insert(ch.topic).second) return where + "duplicate topic '" + ch.topic + "'";
    c.channels.push_back(std::move(ch));
  }
  if (c.channels.empty()) return "at least one channel is needed";
  return "";
}

std::string apply_close_levels(daemon_config& c, const YAML::Node& n, load_context&) {
  static const std::set<std::string> levels = {"blue", "yellow", "orange", "red"};
  if (!n.IsSequence()) return "expected a list of levels";
  c.alert_close_unattended_levels.clear();
  for (const auto& l : n) {
    const auto v = l.IsScalar() ? l.as<std::string>() : "";
    if (!levels.count(v)) return "'" + v + "' is not blue, yellow, orange or red";
    c.alert_close_unattended_levels.push_back(v);
  }
  return "";
}

std::string apply_deadlines(daemon_config& c, const YAML::Node& n, load_context&) {
  if (!n.IsMap()) return "expected a map of category: deadline";
  c.mailbox_deadlines.clear();
  for (const auto& kv : n) {
    const auto v = kv.second.IsScalar() ? kv.second.as<std::string>() : "";
    if (!is_deadline(v))
      return "category " + kv.first.as<std::string>() + ": '" + v +
             "' is not working days (15d) or hours (36h)";
    c.mailbox_deadlines[kv.first.as<std::string>()] = v;
  }
  return "";
}

std::string apply_default_deadline(daemon_config& c, const YAML::Node& n, load_context&) {
  const auto v = n.IsScalar() ? n.as<std::string>() : "";
  if (!is_deadline(v)) return "'" + v + "' is not working days (15d) or hours (36h)";
  c.mailbox_default_deadline = v;
  return "";
}

std::string apply_token(daemon_config& c, const YAML::Node& n, load_context& ctx) {
  if (!n.IsScalar()) return "expected a string";
  auto e = resolve_secret("http.token", n.as<std::string>(), ctx, c.http_token);
  return e.empty() ? "" : e.substr(std::string("property http.token: ").size());
}

std::string apply_units(daemon_config& c, const YAML::Node& n, load_context&) {
  if (n.IsNull()) return "";
  if (!n.IsSequence()) return "expected a list of {name, receiver, plan_names}";
  c.units.clear();
  for (const auto& u : n) {
    const std::string at = "line " + std::to_string(u.Mark().line + 1) + ": ";
    if (!u.IsMap() || !u["name"] || !u["name"].IsScalar() || !u["receiver"] || !u["receiver"].IsScalar())
      return at + "expected {name, receiver, plan_names: [...]}";
    daemon_config::unit unit{u["name"].as<std::string>(), u["receiver"].as<std::string>(), {}};
    if (unit.receiver.empty() || unit.receiver.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != std::string::npos)
      return at + "receiver: an Alertmanager receiver name (ASCII letters, digits, _-.)";
    if (u["plan_names"]) {
      if (!u["plan_names"].IsSequence()) return at + "plan_names: a list";
      for (const auto& p : u["plan_names"]) unit.plan_names.push_back(p.as<std::string>());
    }
    c.units.push_back(std::move(unit));
  }
  return "";
}

std::string apply_people(daemon_config& c, const YAML::Node& n, load_context& ctx) {
  if (!n.IsScalar()) return "expected a path";
  fs::path path = n.as<std::string>();
  if (path.empty()) return "";
  if (path.is_relative()) path = (ctx.base_dir / path).lexically_normal();
  return load_people(path, c.http_people);
}

// risk.policies: a list of {id, name, published, keywords, unit}.
std::string apply_risk_policies(daemon_config& c, const YAML::Node& n, load_context&) {
  c.risk_policies.clear();
  if (n.IsNull()) return "";
  if (!n.IsSequence()) return "expected a list of {id, name, published, keywords, unit}";
  for (const auto& p : n) {
    const std::string at = "line " + std::to_string(p.Mark().line + 1) + ": ";
    if (!p.IsMap()) return at + "expected {id, name, published, keywords, unit}";
    daemon_config::policy_entry e;
    for (const auto& kv : p) {
      const auto key = kv.first.as<std::string>();
      if (key == "keywords") {
        if (!kv.second.IsSequence()) return at + "keywords: expected a list of strings";
        for (const auto& k : kv.second) e.keywords.push_back(k.as<std::string>());
      } else if (key == "id" || key == "name" || key == "published" || key == "unit") {
        if (!kv.second.IsScalar()) return at + key + ": expected a string";
        (key == "id" ? e.id : key == "name" ? e.name : key == "published" ? e.published : e.unit) =
            kv.second.as<std::string>();
      } else {
        return at + "unknown field " + key + " (id, name, published, keywords, unit)";
      }
    }
    const bool date = e.published.size() >= 10 && e.published[4] == '-' && e.published[7] == '-';
    if (e.id.empty() || e.name.empty() || e.keywords.empty() || !date)
      return at + "a policy needs id, name, published (YYYY-MM-DD or RFC 3339) and keywords";
    c.risk_policies.push_back(std::move(e));
  }
  return "";
}

}  // namespace yuqing::config::detail
