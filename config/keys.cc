// The table of every configuration key: name, type, default, bounds, description and
// whether a change needs a restart, each written once, here. The loader takes its
// defaults and its bounds checks from these rows, `yuqingctl config-keys` lists them, and
// tests/unit/config_test.cc checks that config/yuqing.yaml documents each one.
//
// To add a key: a member of daemon_config (config.h, no initializer of its own), one row
// below in its section, e.g.
//   integer("ingest.batch_max_messages", 1000, 1, 100000, &dc::batch_max_messages,
//           "Most messages in one batch"),
// and its entry in config/yuqing.yaml: a comment "(R) ... LO..HI. Default: X." above it.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "config/bindings.h"

namespace yuqing::config::detail {
namespace {

namespace fs = std::filesystem;
using dc = daemon_config;

const std::vector<std::string>& levels() {
  static const std::vector<std::string> v = {"blue", "yellow", "orange", "red"};
  return v;
}

// "a, b or c"
std::string or_list(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i)
    out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return out;
}

// The forms of a row. Each makes the key's spec and the function that applies it from
// the one set of values given (a bound is written once: in the spec and in the check).

binding custom(std::string name, std::string type, std::string def, apply_fn apply,
               std::string what) {
  key_spec spec;
  spec.name = std::move(name);
  spec.type = std::move(type);
  spec.default_value = std::move(def);
  spec.description = std::move(what);
  return {std::move(spec), std::move(apply)};
}

binding text(std::string name, std::string def, std::string dc::*m, std::string what) {
  return custom(std::move(name), "string", std::move(def),
                [m](dc& c, const YAML::Node& n, load_context&) -> std::string {
                  if (!n.IsScalar()) return "expected a string";
                  c.*m = n.as<std::string>();
                  return "";
                },
                std::move(what));
}

// A string that must be one of `choices`.
binding one_of(std::string name, std::string def, std::vector<std::string> choices,
               std::string dc::*m, std::string what) {
  auto b = custom(std::move(name), "string", std::move(def),
                  [m, choices](dc& c, const YAML::Node& n, load_context&) -> std::string {
                    if (!n.IsScalar()) return "expected a string";
                    const auto v = n.as<std::string>();
                    if (std::find(choices.begin(), choices.end(), v) == choices.end())
                      return "must be " + or_list(choices) + ", is '" + v + "'";
                    c.*m = v;
                    return "";
                  },
                  std::move(what));
  b.spec.choices = std::move(choices);
  return b;
}

template <class Int>
binding integer(std::string name, int64_t def, int64_t lo, int64_t hi, Int dc::*m,
                std::string what) {
  auto b = custom(std::move(name), "integer", std::to_string(def),
                  [m, lo, hi](dc& c, const YAML::Node& n, load_context&) -> std::string {
                    int64_t v = 0;
                    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v))
                      return "expected an integer";
                    if (v < lo || v > hi) {
                      return "must be between " + std::to_string(lo) + " and " +
                             std::to_string(hi) + ", is " + std::to_string(v);
                    }
                    c.*m = static_cast<Int>(v);
                    return "";
                  },
                  std::move(what));
  b.spec.min = lo;
  b.spec.max = hi;
  return b;
}

binding flag(std::string name, bool def, bool dc::*m, std::string what) {
  return custom(std::move(name), "boolean", def ? "true" : "false",
                [m](dc& c, const YAML::Node& n, load_context&) -> std::string {
                  bool v = false;
                  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
                    return "expected true or false";
                  c.*m = v;
                  return "";
                },
                std::move(what));
}

// A path; a relative one resolves against the directory of the file.
binding path(std::string name, std::string def, fs::path dc::*m, std::string what) {
  return custom(std::move(name), "path", std::move(def),
                [m](dc& c, const YAML::Node& n, load_context& ctx) -> std::string {
                  if (!n.IsScalar()) return "expected a path";
                  fs::path p = n.as<std::string>();
                  c.*m = p.is_absolute() ? p : (ctx.base_dir / p).lexically_normal();
                  return "";
                },
                std::move(what));
}

// A list of strings; null keeps the default.
binding strings(std::string name, std::string def, std::vector<std::string> dc::*m,
                std::string what) {
  return custom(std::move(name), "list", std::move(def),
                [m](dc& c, const YAML::Node& n, load_context&) -> std::string {
                  if (n.IsNull()) return "";
                  if (!n.IsSequence()) return "expected a list of strings";
                  (c.*m).clear();
                  for (const auto& e : n) {
                    if (!e.IsScalar()) return "expected a list of strings";
                    (c.*m).push_back(e.as<std::string>());
                  }
                  return "";
                },
                std::move(what));
}

// Kafka and the topics read.
std::vector<binding> kafka_keys() {
  return {
      text("kafka.brokers", "embedded", &dc::kafka_brokers,
          "Bootstrap servers (host:port,...) of the Kafka cluster, or 'embedded' to start "
          "librdkafka's mock cluster inside the daemon and create the channel topics"),
      text("kafka.group_id", "yuqing", &dc::kafka_group_id,
          "Consumer group shared by every yuqing instance that splits the same topics"),
      integer("kafka.embedded.brokers", 1, 1, 9, &dc::embedded_brokers,
          "Brokers of the embedded mock cluster"),
      integer("kafka.embedded.partitions", 4, 1, 256, &dc::embedded_partitions,
          "Partitions of each topic the embedded cluster creates"),
      custom("kafka.properties", "map", "{}", apply_properties,
          "librdkafka properties passed through unchanged (security.protocol, sasl.*, ...); a "
          "value ${env:NAME} or ${file:PATH} is read from there, and no value is ever logged or "
          "shown"),
      text("kafka.dead_letter_topic", "yuqing.deadletter", &dc::dead_letter_topic,
          "Topic that receives input that cannot be decoded, with the reason in a header"),
      custom("channels", "channels", "", apply_channels,
          "Topics to read: name, topic, kind (post|news|mailbox|mailbox-reply), format "
          "(json|text), fields (id, text, time, author, source, url, region, title, category as "
          "dotted JSON paths) and offset_gaps (lost|expected)"),
  };
}

// Ingest and storage.
std::vector<binding> ingest_keys() {
  return {
      integer("ingest.batch_max_messages", 1000, 1, 100000, &dc::batch_max_messages,
          "Most messages in one batch (one RocksDB write, one offset commit)"),
      integer("ingest.batch_max_wait_ms", 50, 1, 10000, &dc::batch_max_wait_ms,
          "Longest time a batch waits to fill before it is written"),
      integer("ingest.max_message_bytes", 1048576, 1024, 64 << 20, &dc::max_message_bytes,
          "Larger messages are dead-lettered as oversize"),
      integer("ingest.max_clock_skew_seconds", 300, 0, 7 * 86400, &dc::max_clock_skew_seconds,
          "A message stamped more than this after the daemon's clock is a data error: counted "
          "(yuqing_messages_future_time_total), logged once per channel, kept with its own time"),
      path("storage.path", "/var/lib/yuqing", &dc::storage_path,
          "RocksDB directory"),
      flag("storage.sync", true, &dc::storage_sync,
          "fsync the write-ahead log with every batch (offsets move only after this)"),
      integer("storage.message_retention_hours", 168, 1, 24 * 3650, &dc::message_retention_hours,
          "Hours a consumed message is kept for backtests and /api/v1/messages (hits are kept "
          "for good)"),
  };
}

// Keyword sets and backtests.
std::vector<binding> matching_keys() {
  return {
      path("keyword_sets.dir", "/etc/yuqing/keyword-sets", &dc::keyword_sets_dir,
          "Directory of keyword-set files (*.yaml, one set per file); its files are reloaded, "
          "the path itself is read at start"),
      flag("keyword_sets.watch", true, &dc::keyword_sets_watch,
          "Reload when the directory changes (inotify); SIGHUP and POST "
          "/api/v1/keyword-sets/reload always work"),
      integer("keyword_sets.settle_ms", 300, 10, 60000, &dc::keyword_sets_settle_ms,
          "Quiet time after the last change before the reload (one reload per save or copy)"),
      path("keyword_sets.cache_dir", "", &dc::keyword_sets_cache_dir,
          "Where compiled Hyperscan databases are cached, so a restart with unchanged sets does "
          "not recompile (default: hs-cache inside storage.path)"),
      integer("keyword_sets.compile_time_limit_ms", 60000, 100, 3600000,
              &dc::keyword_sets_compile_time_limit_ms,
          "Longest a set's Hyperscan compile may run (reloads and sets posted to the API); a "
          "longer one is stopped and the set refused, and that content is not compiled again"),
      integer("backtest.max_cpu_percent", 25, 1, 100, &dc::backtest_max_cpu_percent,
          "Most CPU (percent of one core) a backtest takes; it runs at the lowest priority"),
  };
}

// Alerting.
std::vector<binding> alerting_keys() {
  return {
      flag("alerting.enabled", true, &dc::alerting_enabled,
          "Publish matched messages to the hits topic and evaluate the sets' alert rules"),
      text("alerting.hits_topic", "yuqing.hits", &dc::hits_topic,
          "Topic of matched messages, keyed by policy topic (one evaluator owns each topic)"),
      text("alerting.alerts_topic", "yuqing.alerts", &dc::alerts_topic,
          "Topic of alert changes (JSON, keyed by fingerprint); also how an instance taking "
          "over a policy topic learns its active alerts"),
      text("alerting.alertmanager.url", "", &dc::alertmanager_url,
          "Alertmanager to push alerts to (http://host:9093); empty: none"),
      integer("alerting.alertmanager.resend_seconds", 60, 5, 3600, &dc::alertmanager_resend_seconds,
          "Active alerts are sent again this often (Alertmanager forgets silent ones)"),
      text("alerting.webhook.url", "", &dc::webhook_url,
          "URL that receives every alert notification as a JSON POST; empty: none"),
      integer("alerting.repeat_minutes", 60, 1, 10080, &dc::alert_repeat_minutes,
          "An alert nobody acknowledged is notified again this often"),
      integer("alerting.escalate_minutes", 15, 1, 10080, &dc::alert_escalate_minutes,
          "An orange or red alert nobody acknowledged within this time is escalated to red and "
          "notified again"),
      integer("alerting.clocks.warning_minutes", 60, 1, 10080, &dc::clock_warning_minutes,
          "How long before a response clock runs out its warning goes out"),
      integer("alerting.clocks.release_hours", 5, 1, 720, &dc::clock_release_hours,
          "Authoritative information due after an orange or red alert (国办发〔2016〕61号: 5 h)"),
      integer("alerting.clocks.respond_major_hours", 24, 1, 720, &dc::clock_respond_major_hours,
          "Response due after an orange or red alert (61号: 24 h for major events)"),
      integer("alerting.clocks.respond_other_hours", 48, 1, 720, &dc::clock_respond_other_hours,
          "Response due after a yellow or blue alert (61号: 48 h otherwise)"),
      custom("alerting.close_unattended.levels", "list", "[blue, yellow]", apply_close_levels,
          "Levels whose alerts close without a person once their condition has been clear for "
          "the grace time; alerts of the other levels close only when handled"),
      integer("alerting.close_unattended.grace_minutes", 30, 1, 10080,
              &dc::alert_close_grace_minutes,
          "How long the condition of such an alert stays clear before it closes"),
  };
}

// The plan and mailbox cases.
std::vector<binding> mailbox_keys() {
  return {
      path("plan.path", "/usr/share/yuqing/seeds/plan.yaml", &dc::plan_path,
          "The plan as data: items, lead and cooperating units"),
      path("mailbox.calendar_dir", "/usr/share/yuqing/seeds/calendar", &dc::calendar_dir,
          "Working-day calendars, one file per year (holidays and make-up working days as the "
          "State Council publishes them); a year without a file counts weekends only"),
      integer("mailbox.utc_offset_minutes", 480, -720, 840, &dc::mailbox_utc_offset_minutes,
          "UTC offset of the local dates that working days count (China: +08:00 = 480)"),
      custom("mailbox.deadlines", "map", "{咨询: 2d, 求助: 10d, 建议: 10d, 投诉: 15d, 举报: 15d}",
             apply_deadlines,
          "Reply deadline per message category, in working days (15d) or working hours (36h); "
          "the defaults are borrowed from Guangdong's 12345 hotline measures (2022)"),
      custom("mailbox.default_deadline", "string", "15d", apply_default_deadline,
          "Reply deadline of a category not listed in mailbox.deadlines (or none given)"),
      integer("mailbox.due_soon_hours", 24, 1, 720, &dc::mailbox_due_soon_hours,
          "A due_soon alert goes out this long before a case's reply deadline"),
      one_of("mailbox.levels.due_soon", "yellow", levels(), &dc::mailbox_due_soon_level,
          "Level of due_soon alerts (blue|yellow|orange|red)"),
      one_of("mailbox.levels.overdue", "orange", levels(), &dc::mailbox_overdue_level,
          "Level of overdue alerts"),
      one_of("mailbox.levels.concentrated_issue", "orange", levels(),
             &dc::mailbox_concentrated_level,
          "Level of concentrated_issue alerts"),
      one_of("mailbox.levels.same_text", "orange", levels(), &dc::same_text_level,
          "Level of same_text alerts (同文多发: a cluster of as many posts and news items, plan "
          "item 12)"),
      integer("mailbox.concentrated.period_hours", 168, 1, 8760, &dc::concentrated_period_hours,
          "Period over which mailbox messages per topic and per category are counted"),
      integer("mailbox.concentrated.count", 10, 1, 1000000, &dc::concentrated_count,
          "More mailbox messages than this on one topic or category in a period: "
          "concentrated_issue"),
      integer("mailbox.concentrated.factor", 3, 2, 1000, &dc::concentrated_factor,
          "Also concentrated when a period has this many times the messages of the period "
          "before"),
      integer("mailbox.concentrated.min_count", 5, 1, 1000000, &dc::concentrated_min_count,
          "The growth rule needs at least this many messages in the period"),
      one_of("mailbox.clusters.scope", "matched", {"none", "mailbox", "matched", "all"},
             &dc::clusters_scope,
          "Messages clustered by text: none, mailbox (mailbox messages), matched (mailbox "
          "messages and messages that hit a set) or all"),
      integer("mailbox.clusters.similarity_percent", 50, 10, 100, &dc::clusters_similarity_percent,
          "Estimated Jaccard similarity (character bigrams) for a message to join a cluster"),
      integer("mailbox.clusters.count", 5, 2, 1000000, &dc::clusters_count,
          "A cluster of this many messages within the window is a concentrated issue"),
      integer("mailbox.clusters.window_hours", 168, 1, 8760, &dc::clusters_window_hours,
          "Messages older than this (message time) leave their cluster"),
      integer("mailbox.clusters.max_tracked", 100000, 1000, 10000000, &dc::clusters_max_tracked,
          "Most messages kept for clustering (the oldest go first); about 2 KB of memory each"),
      strings("mailbox.clusters.official_sources", "[]", &dc::clusters_official_sources,
          "Sources (the message's source field) or channel names of official publications: "
          "their messages and reposts of them are not clustered (not public concern)"),
  };
}

// Risk index, tendency and policy follow-up (issue 24; risk/README.md has the formula).
binding optional_path(std::string name, fs::path dc::*m, std::string what) {
  auto b = path(name, "", m, std::move(what));
  auto inner = b.apply;
  b.apply = [m, inner](dc& c, const YAML::Node& n, load_context& ctx) -> std::string {
    if (n.IsScalar() && n.as<std::string>().empty()) {
      (c.*m).clear();  // "": none
      return "";
    }
    return inner(c, n, ctx);
  };
  return b;
}

std::vector<binding> risk_keys() {
  return {
      integer("risk.step_minutes", 10, 1, 60, &dc::risk_step_minutes,
          "The index is computed at every boundary of this many minutes of message time (divides 1440)"),
      integer("risk.window_minutes", 60, 1, 1440, &dc::risk_window_minutes,
          "The sliding window of message time each reading covers (a multiple of risk.step_minutes)"),
      integer("risk.baseline_days", 7, 1, 28, &dc::risk_baseline_days,
          "Growth compares a window with the same window on this many previous days"),
      integer("risk.weights.volume", 20, 0, 1000, &dc::risk_weight_volume, "Weight of the volume part"),
      integer("risk.weights.growth", 30, 0, 1000, &dc::risk_weight_growth, "Weight of the growth part"),
      integer("risk.weights.spread", 20, 0, 1000, &dc::risk_weight_spread,
          "Weight of the spread part (authors, channels, sources)"),
      integer("risk.weights.negative", 15, 0, 1000, &dc::risk_weight_negative,
          "Weight of the negative-tendency share"),
      integer("risk.weights.mailbox", 15, 0, 1000, &dc::risk_weight_mailbox,
          "Weight of the mailbox pressure (open, overdue, concentrated)"),
      integer("risk.full.volume", 30, 1, 1000000, &dc::risk_full_volume,
          "Messages in a window that score the volume part full"),
      integer("risk.full.growth_percent", 300, 101, 100000, &dc::risk_full_growth_percent,
          "Growth against the baseline (percent) that scores the growth part full"),
      integer("risk.full.authors", 20, 1, 1000000, &dc::risk_full_authors,
          "Distinct authors in a window that score full"),
      integer("risk.full.channels", 3, 1, 1000, &dc::risk_full_channels,
          "Distinct channels in a window that score full"),
      integer("risk.full.sources", 5, 1, 1000, &dc::risk_full_sources, "Distinct sources in a window that score full"),
      integer("risk.full.open_cases", 10, 1, 1000000, &dc::risk_full_open_cases,
          "Open mailbox cases of the topic that score full"),
      integer("risk.full.overdue_cases", 3, 1, 1000000, &dc::risk_full_overdue_cases,
          "Overdue mailbox cases of the topic that score full"),
      integer("risk.min_volume", 5, 0, 1000000, &dc::risk_min_volume,
          "Below this many messages in a window growth scores 0"),
      integer("risk.levels.medium", 30, 1, 100, &dc::risk_level_medium, "Index from which the level is 中"),
      integer("risk.levels.high", 55, 1, 100, &dc::risk_level_high, "Index from which the level is 高"),
      integer("risk.levels.very_high", 80, 1, 100, &dc::risk_level_very_high, "Index from which the level is 极高"),
      integer("risk.levels.margin", 8, 0, 50, &dc::risk_level_margin,
          "Hysteresis: a level falls only once the index is this far below its threshold"),
      integer("risk.levels.fall_steps", 3, 1, 1000, &dc::risk_level_fall_steps,
          "Hysteresis: ... for this many steps in a row (one level at a time)"),
      integer("risk.mailbox_days", 60, 1, 3650, &dc::risk_mailbox_days,
          "Mailbox cases followed for the mailbox pressure (days of message time)"),
      one_of("risk.alert_from", "medium", {"medium", "high", "very_high", "off"}, &dc::risk_alert_from,
          "A topic whose level rises to this level or above raises a risk_level alert; off: none"),
      path("risk.gazetteer", "/usr/share/yuqing/seeds/gazetteer/jiangmen.yaml", &dc::risk_gazetteer,
          "Regions and their aliases, to place a message without a region field by its text"),
      optional_path("risk.lexicon_dir", &dc::risk_lexicon_dir,
          "Directory of the customer's tendency word lists (negative.txt, positive.txt, negation.txt, "
          "degree.txt); empty: every tendency is unknown"),
      custom("risk.policies", "list", "[]", apply_risk_policies,
          "Published policies to follow (plan item 9): {id, name, published: YYYY-MM-DD or RFC 3339, "
          "keywords: [...], unit}"),
  };
}

// "HH:MM" or "off".
binding clock_time(std::string name, std::string def, std::string dc::*m, std::string what) {
  return custom(std::move(name), "string", std::move(def),
                [m](dc& c, const YAML::Node& n, load_context&) -> std::string {
                  if (!n.IsScalar()) return "expected HH:MM or off";
                  const auto v = n.as<std::string>();
                  auto d = [](char ch) { return ch >= '0' && ch <= '9'; };
                  const bool ok = v == "off" || (v.size() == 5 && v[2] == ':' && d(v[0]) && d(v[1]) && d(v[3]) &&
                                                 d(v[4]) && std::stoi(v.substr(0, 2)) < 24 &&
                                                 std::stoi(v.substr(3)) < 60);
                  if (!ok) return "expected HH:MM (00:00 to 23:59) or off, is '" + v + "'";
                  c.*m = v;
                  return "";
                },
                std::move(what));
}

// briefing.webhooks: a list of {kind, url}.
std::string apply_briefing_webhooks(dc& c, const YAML::Node& n, load_context&) {
  c.briefing_webhooks.clear();
  if (n.IsNull()) return "";
  if (!n.IsSequence()) return "expected a list of {kind, url}";
  for (const auto& w : n) {
    const std::string at = "line " + std::to_string(w.Mark().line + 1) + ": ";
    if (!w.IsMap() || !w["kind"] || !w["kind"].IsScalar() || !w["url"] || !w["url"].IsScalar())
      return at + "expected {kind, url}";
    dc::briefing_webhook hook{w["kind"].as<std::string>(), w["url"].as<std::string>()};
    static const std::vector<std::string> kinds = {"wecom", "dingtalk", "feishu", "generic"};
    if (std::find(kinds.begin(), kinds.end(), hook.kind) == kinds.end())
      return at + "kind: must be " + or_list(kinds) + ", is '" + hook.kind + "'";
    if (hook.url.rfind("http://", 0) != 0) return at + "url: must start with http:// (put a TLS proxy in front)";
    c.briefing_webhooks.push_back(std::move(hook));
  }
  return "";
}

std::vector<binding> briefing_keys() {
  return {
      clock_time("briefing.daily_at", "08:00", &dc::briefing_daily_at,
          "Local time (mailbox.utc_offset_minutes) at which the daily briefing of the day before is made; off: none"),
      clock_time("briefing.weekly_at", "08:30", &dc::briefing_weekly_at,
          "Local time on Mondays at which the weekly briefing of the week before is made; off: none"),
      text("briefing.organisation", "江门市公安局", &dc::briefing_organisation, "Organisation named in the title"),
      integer("briefing.top_clusters", 5, 1, 100, &dc::briefing_top_clusters,
          "Clusters of near-identical messages listed, largest first"),
      integer("briefing.top_regions", 5, 1, 100, &dc::briefing_top_regions, "Regions that rose most, listed"),
      integer("briefing.top_rules", 5, 1, 100, &dc::briefing_top_rules, "Rules with most false hits, listed"),
      integer("briefing.reinterpret_count", 10, 1, 1000000, &dc::briefing_reinterpret_count,
          "A mailbox concentrated issue with this many messages in the period gets the suggestion 二次解读"),
      custom("briefing.webhooks", "list", "[]", apply_briefing_webhooks,
          "Receivers of each briefing: {kind: wecom|dingtalk|feishu|generic, url: http://...}; the Markdown is "
          "split by the receiver's limit (4,096, 20,000, 30,000 bytes), generic gets the JSON"),
  };
}

// Http, the unit directory and logs.
std::vector<binding> http_keys() {
  return {
      text("http.listen", "127.0.0.1:9464", &dc::http_listen,
          "Address and port of /metrics, /healthz and /api/v1 (port 0 picks a free one)"),
      custom("http.token", "string", "", apply_token,
          "Bearer token (an admin) required by POST endpoints (reload, backtest, test) and, with "
          "any token configured, by reading hits, messages, cases, the report and alerts; "
          "${env:NAME} or ${file:PATH} reads it from there; empty: POST endpoints are refused"),
      custom("units", "list", "[]", apply_units,
          "The unit directory: real units ({name, receiver, plan_names: [...]}) that the plan's "
          "units and roles stand for; Alertmanager's unit label carries the real unit, its "
          "receiver label the unit's receiver"),
      custom("http.people", "path", "", apply_people,
          "YAML file of the people who use the API: name, unit, role (viewer, officer, analyst, "
          "admin) and token_sha256 (the SHA-256 of their bearer token, hex); empty: none"),
      strings("http.allowed_hosts", "[]", &dc::http_allowed_hosts,
          "Host names (without port) that requests may name; others answer 421 (/healthz, "
          "/readyz and /metrics excepted); empty: any"),
      path("http.console_dir", "", &dc::http_console_dir,
          "Development: serve the web console's files from this directory (the repository's "
          "console/), read at each request, instead of the copy built into the binary; empty: "
          "the built-in copy"),
      one_of("log.level", "info", {"trace", "debug", "info", "warn", "error"}, &dc::log_level,
          "trace, debug, info, warn, error"),
      one_of("log.format", "text", {"text", "json"}, &dc::log_format,
          "text: one key=value line per event; json: one JSON object per line (same keys, plus "
          "time and level)"),
  };
}

}  // namespace

const std::vector<binding>& bindings() {
  static const std::vector<binding> table = [] {
    std::vector<binding> all;
    for (auto section : {kafka_keys, ingest_keys, matching_keys, alerting_keys, mailbox_keys,
                         risk_keys, briefing_keys, http_keys}) {
      for (auto& b : section()) all.push_back(std::move(b));
    }
    return all;
  }();
  return table;
}

}  // namespace yuqing::config::detail
