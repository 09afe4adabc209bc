// briefing: the daily and weekly 舆情简报 (issue 24 item 4, plan items 11 and 12) — the
// model a leader reads, built from the figures of a period and of the period before, and
// its renderings (Markdown, self-contained HTML, JSON) and the parts a chat webhook takes.
//
// Operation: the daemon assembles an `input` (plain values: the figures of the period and
// of the previous period, from the risk engine, the mailbox report, the precision report and
// the stored messages and alerts); build() compares the two periods (trend arrows, 新 marks,
// regions that rose, mailbox issues over the 二次解读 threshold) and returns a `briefing`;
// the render functions are pure functions of it. Nothing here reads a clock, a file, the
// store or the network: the same input gives the same bytes (golden files in
// tests/unit/data/briefing-daily-*).
//
// Concurrency: plain values and pure functions; any thread.
// Errors: nothing throws on any input (texts that are not UTF-8 are repaired with U+FFFD
// before they are rendered); parse_period() returns nullopt on a malformed date or kind.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace yuqing::briefing {

// ---- periods ---------------------------------------------------------------------------

enum class period_kind { daily, weekly };
const char* to_string(period_kind k);  // daily, weekly
const char* to_chinese(period_kind k);  // 日报, 周报

// [from_ms, to_ms): a local day, or a local week Monday 00:00 to the next Monday 00:00, in
// the UTC offset given.
struct period {
  period_kind kind = period_kind::daily;
  int64_t from_ms = 0, to_ms = 0;
  int utc_offset_minutes = 480;
  // "daily-2022-11-21", "weekly-2022-11-21" (the week's Monday): the briefing's id.
  std::string id() const;
  // "2022年11月21日" or "2022年11月21日—11月27日".
  std::string label() const;
  period previous() const;  // the day or week before
  bool operator==(const period&) const = default;
};
// The day or week (Monday to Sunday) that holds `at_ms`.
period period_of(period_kind k, int64_t at_ms, int utc_offset_minutes);
// kind "daily"|"weekly" and a local date "YYYY-MM-DD" (any day of the week for weekly);
// nullopt when either is malformed.
std::optional<period> parse_period(const std::string& kind, const std::string& date, int utc_offset_minutes);
std::optional<period_kind> parse_kind(const std::string& kind);

// "2022-11-21 09:30" in the offset; "09:30" when only_time.
std::string local_clock(int64_t ms, int utc_offset_minutes, bool only_time = false);

// ---- input: what the daemon assembles ----------------------------------------------------

// One part of a topic's risk index (risk/README.md): label 声量, 增长, ...; points add up
// to the index; known false: left out of the index (no lexicon, no baseline yet).
struct index_part {
  std::string label;
  double points = 0;
  bool known = true;
};

struct topic_figures {
  std::string topic;      // id of the policy topic (a label on hits)
  std::string name;       // its Chinese name (the first set's name); empty: the id
  double index = 0;       // the peak of the 全市 index within the period, 0..100
  std::string level = "low";  // low, medium, high, very_high (at the peak)
  int64_t peak_ms = 0;
  double end_index = 0;   // the reading at the period's end
  std::vector<index_part> parts;  // of the reading at the peak
  uint64_t messages = 0;  // distinct messages of the period that hit the topic
  uint64_t hits = 0;
};

struct region_figures {
  std::string region;
  double index = 0;       // the highest peak of the region over the topics
  std::string topic;      // the topic of that peak
  uint64_t messages = 0;  // distinct messages of the period that hit a topic, placed here
};

// A cluster of near-identical messages (the mailbox's clusterer): a mailbox concentrated
// issue or 同文多发 in posts and news.
struct cluster_figures {
  std::string id;        // stable across periods (the issue's fingerprint)
  std::string kind;      // mailbox (信箱集中诉求) or same_text (同文多发)
  std::string topic;     // may be empty
  std::string text;      // the representative message
  uint64_t count = 0;    // messages
  int64_t first_ms = 0, last_ms = 0;
};

struct unit_figures {
  std::string unit;
  uint64_t received = 0, on_time = 0, late = 0, open = 0, overdue = 0;
};

// A concentrated mailbox issue (by topic, category or text).
struct issue_figures {
  std::string id;      // fingerprint
  std::string by;      // topic, category, text
  std::string what;    // the topic, the category or the representative text
  uint64_t count = 0;  // messages in the issue's period
  uint64_t previous = 0;
};

struct mailbox_figures {
  bool present = false;  // false: no mailbox channel (the section says so)
  uint64_t received = 0, on_time = 0, late = 0, open = 0, overdue = 0;
  double median_reply_hours = 0;
  std::vector<unit_figures> units;    // by unit
  std::vector<issue_figures> issues;  // largest first
};

struct rule_figures {
  std::string set, rule;
  uint64_t hits = 0, judged = 0, relevant = 0, false_hits = 0;
};

struct period_figures {
  uint64_t messages = 0;  // every message stored with a time in the period
  uint64_t hits = 0;      // keyword hits of those messages
  uint64_t hit_messages = 0;  // messages with at least one hit
  std::map<std::string, uint64_t> alerts;  // by level: blue, yellow, orange, red (fired in the period)
  // Messages per hour (daily: 24) or per day (weekly: 7) of the period.
  std::vector<uint64_t> messages_by_slot;
  std::vector<topic_figures> topics;
  std::vector<region_figures> regions;
  std::vector<cluster_figures> clusters;
  mailbox_figures mailbox;
  std::vector<rule_figures> rules;  // with verdicts (precision/); empty: none judged
};

struct options {
  std::string organisation = "江门市公安局";
  size_t top_clusters = 5;
  size_t top_regions = 5;
  size_t top_rules = 5;
  uint64_t reinterpret_count = 10;  // an issue with this many messages or more: 二次解读
  double arrow_points = 5;          // ↑ or ↓ past this many index points, else →
};

struct input {
  period p;
  int64_t generated_ms = 0;
  period_figures now, previous;
  options opts;
};

// ---- the model ---------------------------------------------------------------------------

enum class trend { up, down, flat, fresh };  // ↑ ↓ → 新
const char* arrow(trend t);                  // "↑", "↓", "→", "新"
const char* level_chinese(const std::string& level);  // 低 中 高 极高 (未知 for anything else)

struct topic_row {
  topic_figures now;
  std::optional<double> previous;  // the previous period's peak; nullopt: a new topic
  trend t = trend::flat;
  double change = 0;  // now.index - previous
};

struct region_row {
  region_figures now;
  std::optional<double> previous;
  double rise = 0;  // index points (a new region: its whole index)
  int64_t message_change = 0;
};

struct cluster_row {
  cluster_figures c;
  bool fresh = false;  // not in the previous period
};

struct issue_row {
  issue_figures i;
  bool reinterpret = false;  // suggest 二次解读
};

struct rule_row {
  rule_figures r;
  double precision = 0;  // relevant / (relevant + false hits)
};

struct briefing {
  std::string id, title;  // "daily-2022-11-21", "江门市公安局舆情日报（2022年11月21日）"
  period p;
  int64_t generated_ms = 0;
  options opts;
  period_figures now, previous;
  std::vector<topic_row> topics;     // by index, highest first
  std::vector<std::string> new_topics;  // names
  std::vector<region_row> regions;   // the most risen first, at most top_regions
  std::vector<cluster_row> clusters;  // largest first, at most top_clusters
  std::vector<issue_row> issues;     // mailbox concentrated issues
  std::vector<rule_row> rules;       // most false hits first, at most top_rules
  std::vector<std::string> summary;  // 要点: a few sentences
  std::map<std::string, std::string> topic_names;  // topic id -> its Chinese name
  // The topic's Chinese name when known, else the id.
  std::string topic_name(const std::string& topic) const;
};

briefing build(const input& in);

// ---- renderings ---------------------------------------------------------------------------

std::string to_markdown(const briefing& b);
// One HTML document: no external file, no script; @page A4; charts as inline SVG; every
// text from a message escaped.
std::string to_html(const briefing& b);
std::string to_json(const briefing& b);

std::string html_escape(const std::string& s);
// `s` with invalid UTF-8 sequences replaced by U+FFFD.
std::string valid_utf8(const std::string& s);

// ---- webhooks ------------------------------------------------------------------------------

enum class receiver_kind { wecom, dingtalk, feishu, generic };
std::optional<receiver_kind> parse_receiver(const std::string& s);  // wecom, dingtalk, feishu, generic
const char* to_string(receiver_kind k);
// The most bytes of Markdown one message of the receiver takes: 企业微信 4,096, 钉钉
// 20,000, 飞书 30,000 (generic: no limit, 0).
size_t byte_limit(receiver_kind k);

// Splits `markdown` into parts of at most `limit` bytes each, numbered "（1/3）" on a line
// of their own at the top when there are several. Cuts at a section heading (a line that
// starts with '#') when the part would otherwise pass the limit, else at a line end, and only
// a line longer than the limit on its own is cut inside, at a UTF-8 character boundary. The
// parts without their numbering lines, joined, give `markdown` back.
std::vector<std::string> split(const std::string& markdown, size_t limit);
// The number line split() puts at the top of part i of n ("（i/n）\n"); empty when n == 1.
std::string part_header(size_t i, size_t n);

// The request bodies for one receiver: 企业微信 {"msgtype":"markdown","markdown":{"content"}}
// each; 钉钉 {"msgtype":"markdown","markdown":{"title","text"}} each; 飞书 a rich-text post
// {"msg_type":"post","content":{"post":{"zh_cn":{"title","content":[[{"tag":"text",...}]]}}}}
// each (one paragraph per line, the whole body within the limit); generic: one body, the
// briefing's JSON as it is. Taken from the renderings, so that a stored briefing can be
// pushed again without its model.
std::vector<std::string> webhook_bodies(receiver_kind k, const std::string& title, const std::string& markdown,
                                        const std::string& json);

}  // namespace yuqing::briefing
