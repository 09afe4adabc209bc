// The daemon's configuration: model, the one table that declares every key, and the
// loader. Loading throws nothing: it returns the config or every problem found, each
// naming the key (and line) it is about.
//
// Every key is declared once, in the table of keys.cc, with its description, default,
// bounds and whether a change needs a restart; the defaults of daemon_config, the loader's
// checks and `yuqingctl config-keys` all come from that table (keys()). Unknown keys are
// errors (a typo must not silently become a default).
//
// Relative paths in the file are resolved against the directory of the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/result.h"

namespace yuqing::config {

enum class channel_kind { post, news, mailbox, mailbox_reply };
enum class channel_format { json, text };

const char* to_string(channel_kind k);

// Where the fields of a message are found in its JSON, as JSON pointers ("/a/b").
// The config writes them as dotted paths ("a.b"); `text` lists the fields that are matched.
struct field_map {
  std::string id = "/id";
  std::vector<std::string> text = {"/title", "/content"};
  std::string time = "/published_at";
  std::string author = "/author";
  std::string source = "/source";
  std::string url = "/url";
  std::string region = "/region";
  std::string title = "/title";
  std::string category = "/category";  // mailbox messages: what kind of request
  bool operator==(const field_map&) const = default;
};

// One Kafka topic that yuqing reads.
struct channel {
  std::string name;   // label on metrics and stored hits
  std::string topic;  // Kafka topic
  channel_kind kind = channel_kind::post;
  channel_format format = channel_format::json;
  field_map fields;
  // A jump of a partition's offset past the next one expected counts as lost messages,
  // unless the topic is compacted or has transactional producers (offset_gaps: expected),
  // where gaps are normal.
  bool gaps_expected = false;
  bool operator==(const channel&) const = default;
};

// Every member that a key sets starts at the default its key declares (keys()): the
// constructor applies the table's defaults, so no default is written here.
struct daemon_config {
  daemon_config();
  bool operator==(const daemon_config&) const = default;

  // kafka
  std::string kafka_brokers;
  std::string kafka_group_id;
  int embedded_brokers{};
  int embedded_partitions{};
  std::map<std::string, std::string> kafka_properties;
  std::set<std::string> kafka_referenced;  // properties given as ${env:...} or ${file:...}
  std::string dead_letter_topic;
  std::vector<channel> channels;
  // ingest
  int batch_max_messages{};
  int batch_max_wait_ms{};
  int64_t max_message_bytes{};
  int max_clock_skew_seconds{};
  // storage
  std::filesystem::path storage_path;
  bool storage_sync{};
  int message_retention_hours{};
  // matching
  std::filesystem::path keyword_sets_dir;
  bool keyword_sets_watch{};
  int keyword_sets_settle_ms{};
  std::filesystem::path keyword_sets_cache_dir;  // empty: storage_path / "hs-cache"
  int keyword_sets_compile_time_limit_ms{};
  int backtest_max_cpu_percent{};
  std::filesystem::path plan_path;
  // alerting
  bool alerting_enabled{};
  std::string hits_topic;
  std::string alerts_topic;
  std::string alertmanager_url;  // empty: no Alertmanager
  int alertmanager_resend_seconds{};
  std::string webhook_url;       // empty: no webhook
  int alert_repeat_minutes{};
  int alert_escalate_minutes{};
  int clock_warning_minutes{};
  int clock_release_hours{};
  int clock_respond_major_hours{};
  int clock_respond_other_hours{};
  // Levels whose alerts close without a person once their condition has been clear for the
  // grace time; the others close only when handled.
  std::vector<std::string> alert_close_unattended_levels;
  int alert_close_grace_minutes{};
  // mailbox cases (plan item 11)
  std::filesystem::path calendar_dir;
  int mailbox_utc_offset_minutes{};
  // Reply deadline per category: working days ("15d") or working hours ("36h").
  std::map<std::string, std::string> mailbox_deadlines;
  std::string mailbox_default_deadline;
  int mailbox_due_soon_hours{};
  std::string mailbox_due_soon_level;
  std::string mailbox_overdue_level;
  std::string mailbox_concentrated_level;
  std::string same_text_level;
  int concentrated_period_hours{};
  int concentrated_count{};
  int concentrated_factor{};
  int concentrated_min_count{};
  std::string clusters_scope;  // none | mailbox | matched | all
  int clusters_similarity_percent{};
  int clusters_count{};
  int clusters_window_hours{};
  int clusters_max_tracked{};
  std::vector<std::string> clusters_official_sources;
  // risk index, tendency and policy follow-up (issue 24; risk/README.md has the formula)
  int risk_step_minutes = 10;
  int risk_window_minutes = 60;
  int risk_baseline_days = 7;
  int risk_weight_volume = 20, risk_weight_growth = 30, risk_weight_spread = 20;
  int risk_weight_negative = 15, risk_weight_mailbox = 15;
  int risk_full_volume = 30, risk_full_growth_percent = 300, risk_full_authors = 20;
  int risk_full_channels = 3, risk_full_sources = 5, risk_full_open_cases = 10, risk_full_overdue_cases = 3;
  int risk_min_volume = 5;
  int risk_level_medium = 30, risk_level_high = 55, risk_level_very_high = 80;
  int risk_level_margin = 8, risk_level_fall_steps = 3;
  int risk_mailbox_days = 60;
  std::string risk_alert_from = "medium";  // low..very_high: a topic's rise to it or above alerts; off: none
  std::filesystem::path risk_gazetteer = "/usr/share/yuqing/seeds/gazetteer/jiangmen.yaml";
  std::filesystem::path risk_lexicon_dir;  // empty: every tendency is unknown
  struct policy_entry {
    std::string id, name, published, unit;  // published: YYYY-MM-DD or RFC 3339
    std::vector<std::string> keywords;
    bool operator==(const policy_entry&) const = default;
  };
  std::vector<policy_entry> risk_policies;
  // briefing (issue 24 item 4): the 舆情简报
  std::string briefing_daily_at;   // HH:MM local (mailbox.utc_offset_minutes); off
  std::string briefing_weekly_at;  // on Mondays, for the week before; off
  std::string briefing_organisation;
  int briefing_top_clusters{}, briefing_top_regions{}, briefing_top_rules{};
  int briefing_reinterpret_count{};
  struct briefing_webhook {
    std::string kind, url;  // kind: wecom, dingtalk, feishu, generic; url: http://...
    bool operator==(const briefing_webhook&) const = default;
  };
  std::vector<briefing_webhook> briefing_webhooks;
  // http
  std::string http_listen;
  std::string http_token;  // empty: POST endpoints refused
  // The unit directory: a real unit with its Alertmanager receiver, and the plan's units
  // and roles ("政策措施牵头起草、组织实施单位") that stand for it.
  struct unit {
    std::string name, receiver;
    std::vector<std::string> plan_names;
    bool operator==(const unit&) const = default;
  };
  std::vector<unit> units;
  // People of http.people: a bearer token per person, kept as its SHA-256 (lower-case hex).
  struct person {
    std::string name, unit, role;  // role: viewer, officer, analyst or admin
    std::string token_sha256;
    bool operator==(const person&) const = default;
  };
  std::vector<person> http_people;
  std::vector<std::string> http_allowed_hosts;  // empty: any Host
  std::filesystem::path http_console_dir;  // empty: the console's files built into the binary
  // log
  std::string log_level;
  std::string log_format;  // text (key=value) | json

  bool embedded_kafka() const { return kafka_brokers == "embedded"; }
  // What no log line may show: the HTTP token and the Kafka properties that are secrets
  // (given by reference, or named like one: *password*, *secret*, sasl.oauthbearer.config,
  // ssl.key.pem, ...).
  std::vector<std::string> secrets() const;
  std::filesystem::path hs_cache_dir() const {
    return keyword_sets_cache_dir.empty() ? storage_path / "hs-cache" : keyword_sets_cache_dir;
  }
};

// One declared key.
struct key_spec {
  std::string name;           // dotted path in the YAML file
  std::string type;           // string | integer | boolean | path | map | list | channels
  std::string default_value;  // as written in YAML
  std::string description;
  int64_t min = 0, max = 0;   // bounds of integer keys
  bool needs_restart = true;  // today every key: the file is read at start only
  std::vector<std::string> choices;  // a string key's allowed values; empty: any
};

// The table of every key, grouped by section as in the sample configuration.
const std::vector<key_spec>& keys();

// Loads and validates a configuration file. On failure the error lists every problem,
// one per line, as "FILE:LINE: key: what is wrong".
result<daemon_config> load_file(const std::filesystem::path& file);

// Same, from text; relative paths resolve against base_dir.
result<daemon_config> load_string(const std::string& yaml, const std::string& name,
                                  const std::filesystem::path& base_dir);

}  // namespace yuqing::config
