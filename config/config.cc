#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace yuqing::config {
namespace {

namespace fs = std::filesystem;

// Converts "a.b" to the JSON pointer "/a/b"; a value that already is a pointer stays.
std::string to_pointer(const std::string& dotted) {
  if (dotted.empty() || dotted[0] == '/') return dotted;
  std::string p = "/";
  for (char c : dotted) p += (c == '.') ? '/' : c;
  return p;
}

struct load_context {
  fs::path base_dir;
  std::vector<std::string> problems;
};

using apply_fn = std::function<std::string(daemon_config&, const YAML::Node&, load_context&)>;

struct binding {
  key_spec spec;
  apply_fn apply;  // returns "" or what is wrong
};

apply_fn bind_string(std::string daemon_config::*m) {
  return [m](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
    if (!n.IsScalar()) return "expected a string";
    c.*m = n.as<std::string>();
    return "";
  };
}

apply_fn bind_path(fs::path daemon_config::*m) {
  return [m](daemon_config& c, const YAML::Node& n, load_context& ctx) -> std::string {
    if (!n.IsScalar()) return "expected a path";
    fs::path p = n.as<std::string>();
    c.*m = p.is_absolute() ? p : (ctx.base_dir / p).lexically_normal();
    return "";
  };
}

// A path that may be given empty (""): none.
apply_fn bind_optional_path(fs::path daemon_config::*m) {
  return [m](daemon_config& c, const YAML::Node& n, load_context& ctx) -> std::string {
    if (n.IsScalar() && n.as<std::string>().empty()) {
      (c.*m).clear();
      return "";
    }
    return bind_path(m)(c, n, ctx);
  };
}

template <class Int>
apply_fn bind_int(Int daemon_config::*m, int64_t lo, int64_t hi) {
  return [m, lo, hi](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) return "expected an integer";
    if (v < lo || v > hi) {
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", is " +
             std::to_string(v);
    }
    c.*m = static_cast<Int>(v);
    return "";
  };
}

apply_fn bind_bool(bool daemon_config::*m) {
  return [m](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return "expected true or false";
    c.*m = v;
    return "";
  };
}

apply_fn bind_list(std::vector<std::string> daemon_config::*m) {
  return [m](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
    if (n.IsNull()) return "";
    if (!n.IsSequence()) return "expected a list of strings";
    (c.*m).clear();
    for (const auto& e : n) {
      if (!e.IsScalar()) return "expected a list of strings";
      (c.*m).push_back(e.as<std::string>());
    }
    return "";
  };
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

std::string apply_channels(daemon_config& c, const YAML::Node& n, load_context&) {
  if (!n.IsSequence()) return "expected a list of channels";
  c.channels.clear();
  std::set<std::string> names, topics;
  for (const auto& e : n) {
    const auto where = "line " + std::to_string(e.Mark().line + 1) + ": ";
    if (!e.IsMap()) return where + "a channel is a map";
    static const std::set<std::string> known = {"name", "topic", "kind", "format", "fields",
                                                "offset_gaps"};
    for (const auto& kv : e) {
      if (!known.count(kv.first.as<std::string>()))
        return where + "unknown channel key '" + kv.first.as<std::string>() + "'";
    }
    channel ch;
    if (!e["topic"]) return where + "a channel needs a topic";
    ch.topic = e["topic"].as<std::string>();
    ch.name = e["name"] ? e["name"].as<std::string>() : ch.topic;
    const auto kind = e["kind"] ? e["kind"].as<std::string>() : "post";
    if (kind == "post") ch.kind = channel_kind::post;
    else if (kind == "news") ch.kind = channel_kind::news;
    else if (kind == "mailbox") ch.kind = channel_kind::mailbox;
    else if (kind == "mailbox-reply") ch.kind = channel_kind::mailbox_reply;
    else return where + "kind must be post, news, mailbox or mailbox-reply, is '" + kind + "'";
    const auto format = e["format"] ? e["format"].as<std::string>() : "json";
    if (format == "json") ch.format = channel_format::json;
    else if (format == "text") ch.format = channel_format::text;
    else return where + "format must be json or text, is '" + format + "'";
    if (auto err = parse_fields(ch.fields, e["fields"]); !err.empty()) return where + err;
    const auto gaps = e["offset_gaps"] ? e["offset_gaps"].as<std::string>() : "lost";
    if (gaps != "lost" && gaps != "expected")
      return where + "offset_gaps must be lost or expected, is '" + gaps + "'";
    ch.gaps_expected = gaps == "expected";
    if (!names.insert(ch.name).second) return where + "duplicate channel name '" + ch.name + "'";
    if (!topics.insert(ch.topic).second) return where + "duplicate topic '" + ch.topic + "'";
    c.channels.push_back(std::move(ch));
  }
  if (c.channels.empty()) return "at least one channel is needed";
  return "";
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

const std::vector<binding>& bindings() {
  using dc = daemon_config;
  static const std::vector<binding> table = {
      {{"kafka.brokers", "string", "embedded",
        "Bootstrap servers (host:port,...) of the Kafka cluster, or 'embedded' to start "
        "librdkafka's mock cluster inside the daemon and create the channel topics"},
       bind_string(&dc::kafka_brokers)},
      {{"kafka.group_id", "string", "yuqing",
        "Consumer group shared by every yuqing instance that splits the same topics"},
       bind_string(&dc::kafka_group_id)},
      {{"kafka.embedded.brokers", "integer", "1", "Brokers of the embedded mock cluster", 1, 9},
       bind_int(&dc::embedded_brokers, 1, 9)},
      {{"kafka.embedded.partitions", "integer", "4",
        "Partitions of each topic the embedded cluster creates", 1, 256},
       bind_int(&dc::embedded_partitions, 1, 256)},
      {{"kafka.properties", "map", "{}",
        "librdkafka properties passed through unchanged (security.protocol, sasl.*, ...); a value "
        "${env:NAME} or ${file:PATH} is read from there, and no value is ever logged or shown"},
       apply_properties},
      {{"kafka.dead_letter_topic", "string", "yuqing.deadletter",
        "Topic that receives input that cannot be decoded, with the reason in a header"},
       bind_string(&dc::dead_letter_topic)},
      {{"channels", "channels", "",
        "Topics to read: name, topic, kind (post|news|mailbox|mailbox-reply), format "
        "(json|text), fields (id, text, time, author, source, url, region, title, category "
        "as dotted JSON paths) and offset_gaps (lost|expected)"},
       apply_channels},
      {{"ingest.batch_max_messages", "integer", "1000",
        "Most messages in one batch (one RocksDB write, one offset commit)", 1, 100000},
       bind_int(&dc::batch_max_messages, 1, 100000)},
      {{"ingest.batch_max_wait_ms", "integer", "50",
        "Longest time a batch waits to fill before it is written", 1, 10000},
       bind_int(&dc::batch_max_wait_ms, 1, 10000)},
      {{"ingest.max_message_bytes", "integer", "1048576",
        "Larger messages are dead-lettered as oversize", 1024, 64 << 20},
       bind_int(&dc::max_message_bytes, 1024, 64 << 20)},
      {{"ingest.max_clock_skew_seconds", "integer", "300",
        "A message stamped more than this after the daemon's clock is a data error: counted "
        "(yuqing_messages_future_time_total), logged once per channel, kept with its own time",
        0, 7 * 86400},
       bind_int(&dc::max_clock_skew_seconds, 0, 7 * 86400)},
      {{"storage.path", "path", "/var/lib/yuqing", "RocksDB directory"},
       bind_path(&dc::storage_path)},
      {{"storage.sync", "boolean", "true",
        "fsync the write-ahead log with every batch (offsets move only after this)"},
       bind_bool(&dc::storage_sync)},
      {{"storage.message_retention_hours", "integer", "168",
        "Hours a consumed message is kept for backtests and /api/v1/messages (hits are kept "
        "for good)", 1, 24 * 3650},
       bind_int(&dc::message_retention_hours, 1, 24 * 3650)},
      {{"keyword_sets.dir", "path", "/etc/yuqing/keyword-sets",
        "Directory of keyword-set files (*.yaml, one set per file); its files are reloaded, the "
        "path itself is read at start"},
       bind_path(&dc::keyword_sets_dir)},
      {{"keyword_sets.watch", "boolean", "true",
        "Reload when the directory changes (inotify); SIGHUP and POST "
        "/api/v1/keyword-sets/reload always work"},
       bind_bool(&dc::keyword_sets_watch)},
      {{"keyword_sets.settle_ms", "integer", "300",
        "Quiet time after the last change before the reload (one reload per save or copy)",
        10, 60000},
       bind_int(&dc::keyword_sets_settle_ms, 10, 60000)},
      {{"keyword_sets.cache_dir", "path", "",
        "Where compiled Hyperscan databases are cached, so a restart with unchanged sets does "
        "not recompile (default: hs-cache inside storage.path)"},
       bind_path(&dc::keyword_sets_cache_dir)},
      {{"keyword_sets.compile_time_limit_ms", "integer", "60000",
        "Longest a set's Hyperscan compile may run (reloads and sets posted to the API); a "
        "longer one is stopped and the set refused, and that content is not compiled again",
        100, 3600000},
       bind_int(&dc::keyword_sets_compile_time_limit_ms, 100, 3600000)},
      {{"backtest.max_cpu_percent", "integer", "25",
        "Most CPU (percent of one core) a backtest takes; it runs at the lowest priority",
        1, 100},
       bind_int(&dc::backtest_max_cpu_percent, 1, 100)},
      {{"alerting.enabled", "boolean", "true",
        "Publish matched messages to the hits topic and evaluate the sets' alert rules"},
       bind_bool(&dc::alerting_enabled)},
      {{"alerting.hits_topic", "string", "yuqing.hits",
        "Topic of matched messages, keyed by policy topic (one evaluator owns each topic)"},
       bind_string(&dc::hits_topic)},
      {{"alerting.alerts_topic", "string", "yuqing.alerts",
        "Topic of alert changes (JSON, keyed by fingerprint); also how an instance taking "
        "over a policy topic learns its active alerts"},
       bind_string(&dc::alerts_topic)},
      {{"alerting.alertmanager.url", "string", "",
        "Alertmanager to push alerts to (http://host:9093); empty: none"},
       bind_string(&dc::alertmanager_url)},
      {{"alerting.alertmanager.resend_seconds", "integer", "60",
        "Active alerts are sent again this often (Alertmanager forgets silent ones)", 5, 3600},
       bind_int(&dc::alertmanager_resend_seconds, 5, 3600)},
      {{"alerting.webhook.url", "string", "",
        "URL that receives every alert notification as a JSON POST; empty: none"},
       bind_string(&dc::webhook_url)},
      {{"alerting.repeat_minutes", "integer", "60",
        "An alert nobody acknowledged is notified again this often", 1, 10080},
       bind_int(&dc::alert_repeat_minutes, 1, 10080)},
      {{"alerting.escalate_minutes", "integer", "15",
        "An orange or red alert nobody acknowledged within this time is escalated to red and "
        "notified again", 1, 10080},
       bind_int(&dc::alert_escalate_minutes, 1, 10080)},
      {{"alerting.clocks.warning_minutes", "integer", "60",
        "How long before a response clock runs out its warning goes out", 1, 10080},
       bind_int(&dc::clock_warning_minutes, 1, 10080)},
      {{"alerting.clocks.release_hours", "integer", "5",
        "Authoritative information due after an orange or red alert (国办发〔2016〕61号: 5 h)", 1, 720},
       bind_int(&dc::clock_release_hours, 1, 720)},
      {{"alerting.clocks.respond_major_hours", "integer", "24",
        "Response due after an orange or red alert (61号: 24 h for major events)", 1, 720},
       bind_int(&dc::clock_respond_major_hours, 1, 720)},
      {{"alerting.clocks.respond_other_hours", "integer", "48",
        "Response due after a yellow or blue alert (61号: 48 h otherwise)", 1, 720},
       bind_int(&dc::clock_respond_other_hours, 1, 720)},
      {{"alerting.close_unattended.levels", "list", "[blue, yellow]",
        "Levels whose alerts close without a person once their condition has been clear for "
        "the grace time; alerts of the other levels close only when handled"},
       [](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
         static const std::set<std::string> levels = {"blue", "yellow", "orange", "red"};
         if (!n.IsSequence()) return "expected a list of levels";
         c.alert_close_unattended_levels.clear();
         for (const auto& l : n) {
           const auto v = l.IsScalar() ? l.as<std::string>() : "";
           if (!levels.count(v)) return "'" + v + "' is not blue, yellow, orange or red";
           c.alert_close_unattended_levels.push_back(v);
         }
         return "";
       }},
      {{"alerting.close_unattended.grace_minutes", "integer", "30",
        "How long the condition of such an alert stays clear before it closes", 1, 10080},
       bind_int(&dc::alert_close_grace_minutes, 1, 10080)},
      {{"plan.path", "path", "/usr/share/yuqing/seeds/plan.yaml",
        "The plan as data: items, lead and cooperating units"},
       bind_path(&dc::plan_path)},
      {{"mailbox.calendar_dir", "path", "/usr/share/yuqing/seeds/calendar",
        "Working-day calendars, one file per year (holidays and make-up working days as the "
        "State Council publishes them); a year without a file counts weekends only"},
       bind_path(&dc::calendar_dir)},
      {{"mailbox.utc_offset_minutes", "integer", "480",
        "UTC offset of the local dates that working days count (China: +08:00 = 480)", -720, 840},
       bind_int(&dc::mailbox_utc_offset_minutes, -720, 840)},
      {{"mailbox.deadlines", "map", "{咨询: 2d, 求助: 10d, 建议: 10d, 投诉: 15d, 举报: 15d}",
        "Reply deadline per message category, in working days (15d) or working hours (36h); "
        "the defaults are borrowed from Guangdong's 12345 hotline measures (2022)"},
       [](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
         if (!n.IsMap()) return "expected a map of category: deadline";
         c.mailbox_deadlines.clear();
         for (const auto& kv : n) {
           const auto v = kv.second.IsScalar() ? kv.second.as<std::string>() : "";
           if (!is_deadline(v))
             return "category " + kv.first.as<std::string>() + ": '" + v + "' is not working days (15d) or hours (36h)";
           c.mailbox_deadlines[kv.first.as<std::string>()] = v;
         }
         return "";
       }},
      {{"mailbox.default_deadline", "string", "15d",
        "Reply deadline of a category not listed in mailbox.deadlines (or none given)"},
       [](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
         const auto v = n.IsScalar() ? n.as<std::string>() : "";
         if (!is_deadline(v)) return "'" + v + "' is not working days (15d) or hours (36h)";
         c.mailbox_default_deadline = v;
         return "";
       }},
      {{"mailbox.due_soon_hours", "integer", "24",
        "A due_soon alert goes out this long before a case's reply deadline", 1, 720},
       bind_int(&dc::mailbox_due_soon_hours, 1, 720)},
      {{"mailbox.levels.due_soon", "string", "yellow", "Level of due_soon alerts (blue|yellow|orange|red)"},
       bind_string(&dc::mailbox_due_soon_level)},
      {{"mailbox.levels.overdue", "string", "orange", "Level of overdue alerts"},
       bind_string(&dc::mailbox_overdue_level)},
      {{"mailbox.levels.concentrated_issue", "string", "orange", "Level of concentrated_issue alerts"},
       bind_string(&dc::mailbox_concentrated_level)},
      {{"mailbox.levels.same_text", "string", "orange",
        "Level of same_text alerts (同文多发: a cluster of as many posts and news items, plan item 12)"},
       bind_string(&dc::same_text_level)},
      {{"mailbox.concentrated.period_hours", "integer", "168",
        "Period over which mailbox messages per topic and per category are counted", 1, 8760},
       bind_int(&dc::concentrated_period_hours, 1, 8760)},
      {{"mailbox.concentrated.count", "integer", "10",
        "More mailbox messages than this on one topic or category in a period: concentrated_issue",
        1, 1000000},
       bind_int(&dc::concentrated_count, 1, 1000000)},
      {{"mailbox.concentrated.factor", "integer", "3",
        "Also concentrated when a period has this many times the messages of the period before",
        2, 1000},
       bind_int(&dc::concentrated_factor, 2, 1000)},
      {{"mailbox.concentrated.min_count", "integer", "5",
        "The growth rule needs at least this many messages in the period", 1, 1000000},
       bind_int(&dc::concentrated_min_count, 1, 1000000)},
      {{"mailbox.clusters.scope", "string", "matched",
        "Messages clustered by text: none, mailbox (mailbox messages), matched (mailbox "
        "messages and messages that hit a set) or all"},
       bind_string(&dc::clusters_scope)},
      {{"mailbox.clusters.similarity_percent", "integer", "50",
        "Estimated Jaccard similarity (character bigrams) for a message to join a cluster", 10, 100},
       bind_int(&dc::clusters_similarity_percent, 10, 100)},
      {{"mailbox.clusters.count", "integer", "5",
        "A cluster of this many messages within the window is a concentrated issue", 2, 1000000},
       bind_int(&dc::clusters_count, 2, 1000000)},
      {{"mailbox.clusters.window_hours", "integer", "168",
        "Messages older than this (message time) leave their cluster", 1, 8760},
       bind_int(&dc::clusters_window_hours, 1, 8760)},
      {{"mailbox.clusters.max_tracked", "integer", "100000",
        "Most messages kept for clustering (the oldest go first); about 2 KB of memory each", 1000, 10000000},
       bind_int(&dc::clusters_max_tracked, 1000, 10000000)},
      {{"mailbox.clusters.official_sources", "list", "[]",
        "Sources (the message's source field) or channel names of official publications: their "
        "messages and reposts of them are not clustered (not public concern)"},
       bind_list(&dc::clusters_official_sources)},
      // risk index (issue 24): the formula and what each key does are in risk/README.md
      {{"risk.step_minutes", "integer", "10",
        "The index is computed at every boundary of this many minutes of message time (divides 1440)", 1, 60},
       bind_int(&dc::risk_step_minutes, 1, 60)},
      {{"risk.window_minutes", "integer", "60",
        "The sliding window of message time each reading covers (a multiple of risk.step_minutes)", 1, 1440},
       bind_int(&dc::risk_window_minutes, 1, 1440)},
      {{"risk.baseline_days", "integer", "7",
        "Growth compares a window with the same window on this many previous days", 1, 28},
       bind_int(&dc::risk_baseline_days, 1, 28)},
      {{"risk.weights.volume", "integer", "20", "Weight of the volume part", 0, 1000},
       bind_int(&dc::risk_weight_volume, 0, 1000)},
      {{"risk.weights.growth", "integer", "30", "Weight of the growth part", 0, 1000},
       bind_int(&dc::risk_weight_growth, 0, 1000)},
      {{"risk.weights.spread", "integer", "20", "Weight of the spread part (authors, channels, sources)", 0, 1000},
       bind_int(&dc::risk_weight_spread, 0, 1000)},
      {{"risk.weights.negative", "integer", "15", "Weight of the negative-tendency share", 0, 1000},
       bind_int(&dc::risk_weight_negative, 0, 1000)},
      {{"risk.weights.mailbox", "integer", "15", "Weight of the mailbox pressure (open, overdue, concentrated)", 0, 1000},
       bind_int(&dc::risk_weight_mailbox, 0, 1000)},
      {{"risk.full.volume", "integer", "30", "Messages in a window that score the volume part full", 1, 1000000},
       bind_int(&dc::risk_full_volume, 1, 1000000)},
      {{"risk.full.growth_percent", "integer", "300",
        "Growth against the baseline (percent) that scores the growth part full", 101, 100000},
       bind_int(&dc::risk_full_growth_percent, 101, 100000)},
      {{"risk.full.authors", "integer", "20", "Distinct authors in a window that score full", 1, 1000000},
       bind_int(&dc::risk_full_authors, 1, 1000000)},
      {{"risk.full.channels", "integer", "3", "Distinct channels in a window that score full", 1, 1000},
       bind_int(&dc::risk_full_channels, 1, 1000)},
      {{"risk.full.sources", "integer", "5", "Distinct sources in a window that score full", 1, 1000},
       bind_int(&dc::risk_full_sources, 1, 1000)},
      {{"risk.full.open_cases", "integer", "10", "Open mailbox cases of the topic that score full", 1, 1000000},
       bind_int(&dc::risk_full_open_cases, 1, 1000000)},
      {{"risk.full.overdue_cases", "integer", "3", "Overdue mailbox cases of the topic that score full", 1, 1000000},
       bind_int(&dc::risk_full_overdue_cases, 1, 1000000)},
      {{"risk.min_volume", "integer", "5", "Below this many messages in a window growth scores 0", 0, 1000000},
       bind_int(&dc::risk_min_volume, 0, 1000000)},
      {{"risk.levels.medium", "integer", "30", "Index from which the level is 中", 1, 100},
       bind_int(&dc::risk_level_medium, 1, 100)},
      {{"risk.levels.high", "integer", "55", "Index from which the level is 高", 1, 100},
       bind_int(&dc::risk_level_high, 1, 100)},
      {{"risk.levels.very_high", "integer", "80", "Index from which the level is 极高", 1, 100},
       bind_int(&dc::risk_level_very_high, 1, 100)},
      {{"risk.levels.margin", "integer", "8",
        "Hysteresis: a level falls only once the index is this far below its threshold", 0, 50},
       bind_int(&dc::risk_level_margin, 0, 50)},
      {{"risk.levels.fall_steps", "integer", "3",
        "Hysteresis: ... for this many steps in a row (one level at a time)", 1, 1000},
       bind_int(&dc::risk_level_fall_steps, 1, 1000)},
      {{"risk.mailbox_days", "integer", "60", "Mailbox cases followed for the mailbox pressure (days of message time)", 1, 3650},
       bind_int(&dc::risk_mailbox_days, 1, 3650)},
      {{"risk.alert_from", "string", "medium",
        "A topic whose level rises to this level or above raises a risk_level alert (medium, high, "
        "very_high; off: none)"},
       bind_string(&dc::risk_alert_from)},
      {{"risk.gazetteer", "path", "/usr/share/yuqing/seeds/gazetteer/jiangmen.yaml",
        "Regions and their aliases, to place a message without a region field by its text (empty: none)"},
       bind_optional_path(&dc::risk_gazetteer)},
      {{"risk.lexicon_dir", "path", "",
        "Directory of the customer's tendency word lists (negative.txt, positive.txt, negation.txt, "
        "degree.txt); empty: every tendency is unknown"},
       bind_optional_path(&dc::risk_lexicon_dir)},
      {{"risk.policies", "list", "[]",
        "Published policies to follow (plan item 9): {id, name, published: YYYY-MM-DD or RFC 3339, "
        "keywords: [...], unit}"},
       apply_risk_policies},
      {{"http.listen", "string", "127.0.0.1:9464",
        "Address and port of /metrics, /healthz and /api/v1 (port 0 picks a free one)"},
       bind_string(&dc::http_listen)},
      {{"http.token", "string", "",
        "Bearer token required by POST endpoints (reload, backtest, test); ${env:NAME} or "
        "${file:PATH} reads it from there; empty: POST endpoints are refused"},
       [](daemon_config& c, const YAML::Node& n, load_context& ctx) -> std::string {
         if (!n.IsScalar()) return "expected a string";
         auto e = resolve_secret("http.token", n.as<std::string>(), ctx, c.http_token);
         return e.empty() ? "" : e.substr(std::string("property http.token: ").size());
       }},
      {{"units", "list", "[]",
        "The unit directory: real units ({name, receiver, plan_names: [...]}) that the plan's "
        "units and roles stand for; Alertmanager's unit label carries the real unit, its "
        "receiver label the unit's receiver"},
       [](daemon_config& c, const YAML::Node& n, load_context&) -> std::string {
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
       }},
      {{"http.people", "path", "",
        "YAML file of the people who use the API: name, unit, role (viewer, officer, analyst, "
        "admin) and token_sha256 (the SHA-256 of their bearer token, hex); empty: none"},
       [](daemon_config& c, const YAML::Node& n, load_context& ctx) -> std::string {
         if (!n.IsScalar()) return "expected a path";
         fs::path path = n.as<std::string>();
         if (path.empty()) return "";
         if (path.is_relative()) path = (ctx.base_dir / path).lexically_normal();
         return load_people(path, c.http_people);
       }},
      {{"http.allowed_hosts", "list", "[]",
        "Host names (without port) that requests may name; others answer 421 (/healthz, "
        "/readyz and /metrics excepted); empty: any"},
       bind_list(&dc::http_allowed_hosts)},
      {{"log.level", "string", "info", "trace, debug, info, warn, error"},
       bind_string(&dc::log_level)},
      {{"log.format", "string", "text",
        "text: one key=value line per event; json: one JSON object per line (same keys, plus "
        "time and level)"},
       bind_string(&dc::log_format)},
  };
  return table;
}

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

std::string validate(const daemon_config& c) {
  if (c.kafka_brokers.empty()) return "kafka.brokers: must not be empty";
  if (c.http_listen.find(':') == std::string::npos) return "http.listen: expected HOST:PORT";
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  if (!levels.count(c.log_level)) return "log.level: must be one of trace, debug, info, warn, error";
  if (c.log_format != "text" && c.log_format != "json") return "log.format: must be text or json";
  static const std::set<std::string> alert_levels = {"blue", "yellow", "orange", "red"};
  for (const auto& [key, v] : {std::pair<const char*, const std::string*>{"mailbox.levels.due_soon", &c.mailbox_due_soon_level},
                               {"mailbox.levels.overdue", &c.mailbox_overdue_level},
                               {"mailbox.levels.concentrated_issue", &c.mailbox_concentrated_level}}) {
    if (!alert_levels.count(*v)) return std::string(key) + ": must be blue, yellow, orange or red";
  }
  static const std::set<std::string> scopes = {"none", "mailbox", "matched", "all"};
  if (!scopes.count(c.clusters_scope)) return "mailbox.clusters.scope: must be none, mailbox, matched or all";
  if (1440 % c.risk_step_minutes != 0) return "risk.step_minutes: must divide 1440 (a day)";
  if (c.risk_window_minutes % c.risk_step_minutes != 0)
    return "risk.window_minutes: must be a multiple of risk.step_minutes";
  if (!(c.risk_level_medium < c.risk_level_high && c.risk_level_high < c.risk_level_very_high))
    return "risk.levels: medium < high < very_high is required";
  static const std::set<std::string> rises = {"medium", "high", "very_high", "off"};
  if (!rises.count(c.risk_alert_from)) return "risk.alert_from: must be medium, high, very_high or off";
  for (const auto& ch : c.channels) {
    if (ch.topic == c.dead_letter_topic)
      return "channels: topic '" + ch.topic + "' is also the dead-letter topic";
  }
  return "";
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
  for (const auto& b : bindings()) {
    const YAML::Node n = find(root, b.spec.name);
    if (!n) {
      if (b.spec.type == "path" && !b.spec.default_value.empty()) {  // relative defaults resolve like file values
        b.apply(c, YAML::Node(b.spec.default_value), ctx);
      }
      continue;
    }
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
