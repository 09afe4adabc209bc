#include "daemon/probe.h"

#include <prometheus/text_serializer.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <tuple>

namespace yuqing::daemon {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {

prometheus::MetricFamily& add_family(std::vector<prometheus::MetricFamily>& out, const char* name,
                                     const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  out.push_back(std::move(f));
  return out.back();
}

void add_value(prometheus::MetricFamily& f, double v,
               std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) m.counter.value = v;
  else m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

// The process metrics of the Prometheus client conventions, read from /proc at each scrape.
std::vector<prometheus::MetricFamily> process_families() {
  std::vector<prometheus::MetricFamily> out;
  auto add = [&](const char* name, const char* help, prometheus::MetricType type, double v) {
    add_value(add_family(out, name, help, type), v);
  };
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces): state is field 3.
  std::istringstream in(text.substr(text.rfind(')') + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(in)), std::istream_iterator<std::string>());
  if (f.size() > 22) {  // f[0] is field 3
    add("process_cpu_seconds_total", "User and system CPU time, in seconds",
        prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / tick);
    add("process_virtual_memory_bytes", "Virtual memory size, in bytes",
        prometheus::MetricType::Gauge, std::stod(f[20]));
    add("process_resident_memory_bytes", "Resident memory size, in bytes",
        prometheus::MetricType::Gauge, std::stod(f[21]) * page);
    std::ifstream up("/proc/stat");
    for (std::string line; std::getline(up, line);) {
      if (line.rfind("btime ", 0) == 0) {
        add("process_start_time_seconds", "Start time of the process, Unix seconds",
            prometheus::MetricType::Gauge, std::stod(line.substr(6)) + std::stod(f[19]) / tick);
      }
    }
  }
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  add("process_open_fds", "Open file descriptors", prometheus::MetricType::Gauge, static_cast<double>(fds));
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
    add("process_max_fds", "Most file descriptors the process may open",
        prometheus::MetricType::Gauge, static_cast<double>(lim.rlim_cur));
  return out;
}

}  // namespace

metrics::metrics() : registry_(std::make_shared<prometheus::Registry>()), collectors_{process_families} {}

void metrics::add_collector(collector fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string metrics::expose() const {
  auto families = registry_->Collect();
  std::lock_guard lock(mu_);
  for (const auto& fn : collectors_) {
    auto more = fn();
    families.insert(families.end(), more.begin(), more.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<prometheus::MetricFamily> http_families(uint64_t connections, uint64_t event_streams) {
  std::vector<prometheus::MetricFamily> out;
  auto& f = add_family(out, "yuqing_http_refused_total",
                       "What the HTTP limits turned away: connections closed at accept (API, client and "
                       "reserved slots full) and event streams refused (503)",
                       prometheus::MetricType::Counter);
  add_value(f, static_cast<double>(connections), {{"what", "connection"}});
  add_value(f, static_cast<double>(event_streams), {{"what", "event_stream"}});
  return out;
}

std::vector<prometheus::MetricFamily> storage_families(const storage::store::stats& s) {
  std::vector<prometheus::MetricFamily> out;
  if (!s.column_families.empty()) {
    using field = uint64_t storage::store::column_family_stats::*;
    const std::tuple<const char*, const char*, field> per_cf[] = {
        {"yuqing_storage_sst_bytes", "Size of the live SST files of each column family, in bytes",
         &storage::store::column_family_stats::sst_bytes},
        {"yuqing_storage_memtable_bytes", "Size of the memtables of each column family, in bytes",
         &storage::store::column_family_stats::memtable_bytes},
        {"yuqing_storage_keys", "Keys in each column family (RocksDB's estimate)",
         &storage::store::column_family_stats::keys},
        {"yuqing_storage_pending_compaction_bytes",
         "Bytes RocksDB estimates compaction has to rewrite, by column family",
         &storage::store::column_family_stats::pending_compaction_bytes},
    };
    for (const auto& [name, help, member] : per_cf) {
      auto& f = add_family(out, name, help, prometheus::MetricType::Gauge);
      for (const auto& c : s.column_families)
        add_value(f, static_cast<double>(c.*member), {{"column_family", c.name}});
    }
  }
  if (s.filesystem_avail_bytes)
    add_value(add_family(out, "yuqing_storage_filesystem_avail_bytes",
                         "Room left on the file system of the database, in bytes",
                         prometheus::MetricType::Gauge),
              static_cast<double>(*s.filesystem_avail_bytes));
  if (s.filesystem_size_bytes)
    add_value(add_family(out, "yuqing_storage_filesystem_size_bytes",
                         "Size of the file system of the database, in bytes",
                         prometheus::MetricType::Gauge),
              static_cast<double>(*s.filesystem_size_bytes));
  return out;
}

app_probe::app_probe(metrics& m, const std::string& version, int64_t start_time_ms) {
  auto& r = m.registry();
  BuildGauge().Name("yuqing_build_info").Help("Version of the running yuqingd (value 1)")
      .Register(r).Add({{"version", version}}).Set(1);
  BuildGauge().Name("yuqing_start_time_seconds").Help("Start time of yuqingd, Unix seconds")
      .Register(r).Add({}).Set(static_cast<double>(start_time_ms) / 1000.0);
  sets_ = &BuildGauge().Name("yuqing_keyword_sets_loaded").Help("Keyword sets in force")
               .Register(r).Add({});
  auto& reloads = BuildCounter().Name("yuqing_keyword_set_reloads_total")
                      .Help("Keyword-set reloads by result").Register(r);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "failed"}});
  compile_seconds_ = &BuildHistogram().Name("yuqing_keyword_set_compile_seconds")
                          .Help("Time to load one new keyword-set version (compile or cache)")
                          .Register(r)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120});
  set_rules_ = &BuildGauge().Name("yuqing_keyword_set_rules")
                    .Help("Rules of each keyword set in force").Register(r);
  set_loaded_ = &BuildGauge().Name("yuqing_keyword_set_loaded_timestamp_seconds")
                     .Help("When the version in force of each keyword set was loaded")
                     .Register(r);
  set_version_ = &BuildGauge().Name("yuqing_keyword_set_version_info")
                      .Help("The version (content hash) in force of each keyword set (value 1)")
                      .Register(r);
}

void app_probe::set_in_force(const std::string& set, const std::string& version, size_t rules,
                             int64_t loaded_ms) {
  std::lock_guard lock(mu_);
  auto& g = per_set_[set];
  if (!g.rules) {
    g.rules = &set_rules_->Add({{"set", set}});
    g.loaded = &set_loaded_->Add({{"set", set}});
  }
  if (!g.version || g.version_label != version) {
    if (g.version) set_version_->Remove(g.version);
    g.version = &set_version_->Add({{"set", set}, {"version", version}});
    g.version->Set(1);
    g.version_label = version;
  }
  g.rules->Set(static_cast<double>(rules));
  g.loaded->Set(static_cast<double>(loaded_ms) / 1000.0);
}

void app_probe::set_removed(const std::string& set) {
  std::lock_guard lock(mu_);
  auto it = per_set_.find(set);
  if (it == per_set_.end()) return;
  set_rules_->Remove(it->second.rules);
  set_loaded_->Remove(it->second.loaded);
  set_version_->Remove(it->second.version);
  per_set_.erase(it);
}

ingest_probe::ingest_probe(metrics& m, const std::vector<config::channel>& channels)
    : hits_family_(BuildCounter().Name("yuqing_hits_total")
                       .Help("Hits (a rule of a keyword set matching a message), by set and policy topic")
                       .Register(m.registry())),
      rule_family_(BuildCounter().Name("yuqing_rule_hits_total")
                       .Help("Hits by keyword set and rule (find the noisy rules)")
                       .Register(m.registry())),
      lag_family_(BuildGauge().Name("yuqing_consumer_lag_messages")
                      .Help("Messages in an assigned partition not yet stored (high watermark "
                            "minus next offset); series removed when the partition is revoked")
                      .Register(m.registry())) {
  auto& r = m.registry();
  auto& consumed = BuildCounter().Name("yuqing_messages_consumed_total")
                       .Help("Kafka messages consumed, by channel").Register(r);
  auto& bytes = BuildCounter().Name("yuqing_message_bytes_total")
                    .Help("Payload bytes consumed, by channel").Register(r);
  auto& invalid = BuildCounter().Name("yuqing_messages_invalid_total")
                      .Help("Messages that could not be decoded, by channel and reason")
                      .Register(r);
  auto& dead = BuildCounter().Name("yuqing_dead_letters_total")
                   .Help("Messages delivered to the dead-letter topic, by channel").Register(r);
  auto& future = BuildCounter().Name("yuqing_messages_future_time_total")
                     .Help("Messages whose time is further after the daemon's clock than "
                           "ingest.max_clock_skew_seconds (kept, with their own time), by channel")
                     .Register(r);
  auto& repeated = BuildCounter().Name("yuqing_messages_repeated_total")
                       .Help("Messages whose id was stored before from another offset, by channel "
                             "and kind (duplicate: same text, kept once; edited: other text, kept "
                             "as a second version)")
                       .Register(r);
  auto& lost = BuildCounter().Name("yuqing_messages_lost_total")
                   .Help("Messages never read: a partition's offset jumped past the next one "
                         "expected (the broker deleted them first), by channel and reason")
                   .Register(r);
  for (const auto& ch : channels) {
    channel_counters c{&consumed.Add({{"channel", ch.name}}), &bytes.Add({{"channel", ch.name}}),
                       &dead.Add({{"channel", ch.name}}), {},
                       &repeated.Add({{"channel", ch.name}, {"kind", "duplicate"}}),
                       &repeated.Add({{"channel", ch.name}, {"kind", "edited"}}),
                       &lost.Add({{"channel", ch.name}, {"reason", "offset_gap"}})};
    for (auto e : all_decode_errors)
      c.invalid[e] = &invalid.Add({{"channel", ch.name}, {"reason", to_string(e)}});
    c.future_time = &future.Add({{"channel", ch.name}});
    channels_.push_back(std::move(c));
  }
  batches_ = &BuildCounter().Name("yuqing_ingest_batches_total")
                  .Help("Batches written to the store").Register(r).Add({});
  batch_size_ = &BuildHistogram().Name("yuqing_ingest_batch_messages")
                     .Help("Messages per batch").Register(r)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 500, 1000, 5000, 20000});
  write_seconds_ = &BuildHistogram().Name("yuqing_storage_write_seconds")
                        .Help("Time to write and sync one batch").Register(r)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  match_seconds_ = &BuildHistogram().Name("yuqing_match_batch_seconds")
                        .Help("Time spent matching (normalize and scan) the messages of one batch")
                        .Register(r)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  bytes_scanned_ = &BuildCounter().Name("yuqing_match_bytes_scanned_total")
                        .Help("Text bytes matched against the keyword sets").Register(r).Add({});
  write_errors_ = &BuildCounter().Name("yuqing_storage_write_errors_total")
                       .Help("Failed batch writes (the batch is retried)").Register(r).Add({});
  commit_failures_ = &BuildCounter().Name("yuqing_kafka_commit_failures_total")
                          .Help("Offset commits to Kafka that failed (offsets of record stay in "
                                "the store; Kafka's are for lag views and hand-over)")
                          .Register(r).Add({});
  paused_ = &BuildGauge().Name("yuqing_ingest_paused")
                 .Help("1 while consumption is paused because the store or the dead-letter "
                       "topic fails").Register(r).Add({});
  e2e_ = &BuildHistogram().Name("yuqing_ingest_end_to_end_seconds")
              .Help("Kafka message timestamp to stored").Register(r)
              .Add({}, e2e_bounds_);
}

void ingest_probe::end_to_end(const std::vector<double>& seconds) {
  if (seconds.empty()) return;
  std::vector<double> counts(e2e_bounds_.size() + 1, 0);  // the last: above every bound
  double sum = 0;
  for (const double s : seconds) {
    const auto at = std::lower_bound(e2e_bounds_.begin(), e2e_bounds_.end(), s);  // le: s <= bound
    counts[static_cast<size_t>(at - e2e_bounds_.begin())] += 1;
    sum += s;
  }
  e2e_->ObserveMultiple(counts, sum);
}

void ingest_probe::count_hits(const std::vector<storage::hit_record>& hits) {
  std::lock_guard lock(mu_);
  ++batch_seq_;
  std::string key;
  for (const auto& h : hits) {
    key.assign(h.set_id).append(1, '\0').append(h.rule_id);
    auto& e = rules_[key];
    if (!e.rule) {
      e.rule = &rule_family_.Add({{"set", h.set_id}, {"rule", h.rule_id}});
      auto& topic = hits_[{h.set_id, h.topic}];
      if (!topic) topic = &hits_family_.Add({{"set", h.set_id}, {"topic", h.topic}});
      e.topic = topic;
      e.last.set = h.set_id;
      e.last.rule = h.rule_id;
      e.last.topic = h.topic;
    }
    e.rule->Increment();
    e.topic->Increment();
    if (e.batch != batch_seq_) {  // one example per rule and batch
      e.batch = batch_seq_;
      e.last.example_key = h.message_key;
      e.last.example_text = h.spans.empty() ? "" : h.spans.front().text;
      e.last.example_time_ms = h.time_ms;
    }
  }
}

std::vector<ingest_probe::rule_count> ingest_probe::rule_counts() const {
  std::lock_guard lock(mu_);
  std::vector<rule_count> out;
  for (const auto& [key, e] : rules_) {
    out.push_back(e.last);
    out.back().hits = static_cast<uint64_t>(e.rule->Value());
  }
  return out;
}

void ingest_probe::lag(const std::string& topic, int32_t partition, int64_t messages) {
  auto& slot = lag_[{topic, partition}];
  if (!slot) slot = &lag_family_.Add({{"topic", topic}, {"partition", std::to_string(partition)}});
  slot->Set(static_cast<double>(std::max<int64_t>(0, messages)));
}

void ingest_probe::forget_lag() {
  for (auto& [tp, g] : lag_) lag_family_.Remove(g);
  lag_.clear();
}

alerting_probe::alerting_probe(metrics& m)
    : fired_(BuildCounter().Name("yuqing_alerts_fired_total")
                 .Help("Alerts fired, by level and kind").Register(m.registry())),
      active_(BuildGauge().Name("yuqing_alerts_active")
                  .Help("Alerts not closed, by level, policy topic and duty state (open, "
                        "acknowledged, handled)").Register(m.registry())),
      sent_(BuildCounter().Name("yuqing_alert_notifications_total")
                .Help("Alert notifications delivered, by sink").Register(m.registry())),
      failed_(BuildCounter().Name("yuqing_alert_notification_failures_total")
                  .Help("Alert notifications a sink did not take (after retries), by sink")
                  .Register(m.registry())),
      to_ack_(BuildHistogram().Name("yuqing_alert_acknowledge_seconds")
                  .Help("From an alert firing to a person acknowledging it, by level")
                  .Register(m.registry())) {
  latency_ = &BuildHistogram().Name("yuqing_alert_latency_seconds")
                  .Help("From a hit reaching the hits topic to its alert being notified")
                  .Register(m.registry())
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                   0.5, 1, 2.5, 5, 10});
  for (const auto& level : {"blue", "yellow", "orange", "red"}) {
    for (const auto& kind : {"immediate", "threshold", "spike", "spread", "due_soon", "overdue",
                             "concentrated_issue"})
      fired_.Add({{"level", level}, {"kind", kind}});
    to_ack_.Add({{"level", level}}, prometheus::Histogram::BucketBoundaries{
                                        60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400});
  }
  invalid_ = &BuildCounter().Name("yuqing_alerting_invalid_events_total")
                  .Help("Hit events on the hits topic that could not be read (skipped)")
                  .Register(m.registry()).Add({});
  for (const auto& sink : {"kafka", "alertmanager", "webhook"}) {
    sent_.Add({{"sink", sink}});
    failed_.Add({{"sink", sink}});
  }
}

void alerting_probe::fired(const std::string& level, const std::string& kind) {
  std::lock_guard lock(mu_);
  fired_.Add({{"level", level}, {"kind", kind}}).Increment();
}

void alerting_probe::active(const std::map<std::array<std::string, 3>, int>& counts) {
  std::lock_guard lock(mu_);
  for (auto& [key, g] : active_children_) g->Set(0);
  for (const auto& [key, n] : counts) {
    auto& g = active_children_[key];
    if (!g) g = &active_.Add({{"level", key[0]}, {"topic", key[1]}, {"state", key[2]}});
    g->Set(n);
  }
}

void alerting_probe::acknowledged(const std::string& level, double seconds) {
  std::lock_guard lock(mu_);
  to_ack_.Add({{"level", level}}, prometheus::Histogram::BucketBoundaries{
                                      60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400})
      .Observe(seconds);
}

prometheus::Counter& alerting_probe::family_child(prometheus::Family<prometheus::Counter>& f,
                                                  const std::string& sink) {
  return f.Add({{"sink", sink}});
}

mailbox_probe::mailbox_probe(metrics& m)
    : state_(BuildGauge().Name("yuqing_mailbox_cases")
                 .Help("Mailbox cases by state (open, overdue, closed)").Register(m.registry())),
      open_(BuildGauge().Name("yuqing_mailbox_open_cases")
                .Help("Unanswered mailbox cases within their deadline, by responsible unit")
                .Register(m.registry())),
      overdue_(BuildGauge().Name("yuqing_mailbox_overdue_cases")
                   .Help("Unanswered mailbox cases past their deadline, by responsible unit")
                   .Register(m.registry())),
      alerts_(BuildCounter().Name("yuqing_mailbox_alerts_total")
                  .Help("Mailbox alerts raised, by kind (due_soon, overdue, concentrated_issue, same_text)")
                  .Register(m.registry())),
      replies_(BuildCounter().Name("yuqing_mailbox_replies_total")
                   .Help("Replies that closed a case, by whether they were in time (on_time, late)")
                   .Register(m.registry())),
      waiting_(BuildGauge().Name("yuqing_mailbox_deadline_checks_waiting")
                   .Help("Due-soon and overdue checks waiting until the replies are read far enough, by "
                         "reason (replies_behind, replies_not_assigned)")
                   .Register(m.registry())) {
  reply_seconds_ = &BuildHistogram().Name("yuqing_mailbox_reply_seconds")
                        .Help("From a mailbox message to its reply")
                        .Register(m.registry())
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 5 * 86400,
                                     10 * 86400, 15 * 86400, 30 * 86400, 60 * 86400});
  unmatched_ = &BuildGauge().Name("yuqing_mailbox_unmatched_replies")
                    .Help("Replies whose message has not arrived (kept until it does)")
                    .Register(m.registry()).Add({});
  auto& clustered = BuildCounter().Name("yuqing_mailbox_clustered_messages_total")
                        .Help("Messages signed and clustered by text").Register(m.registry());
  clustered_ = &clustered.Add({});
  cluster_seconds_ = &BuildCounter().Name("yuqing_mailbox_clustering_seconds_total")
                          .Help("Time spent signing and clustering messages").Register(m.registry()).Add({});
  tracked_ = &BuildGauge().Name("yuqing_mailbox_cluster_tracked_messages")
                  .Help("Messages held for text clustering").Register(m.registry()).Add({});
  for (const auto& st : {"open", "overdue", "closed"}) state_children_[st] = &state_.Add({{"state", st}});
  for (const auto& k : {"due_soon", "overdue", "concentrated_issue", "same_text"}) alerts_.Add({{"kind", k}});
  for (const auto& r : {"replies_behind", "replies_not_assigned"}) waiting_children_[r] = &waiting_.Add({{"reason", r}});
  for (const auto& k : {"on_time", "late"}) replies_.Add({{"timeliness", k}});
}

void mailbox_probe::set_all(prometheus::Family<prometheus::Gauge>& f,
                            std::map<std::string, prometheus::Gauge*>& children, const char* label,
                            const std::map<std::string, int64_t>& values) {
  for (auto& [k, g] : children) g->Set(0);
  for (const auto& [k, v] : values) {
    auto& g = children[k];
    if (!g) g = &f.Add({{label, k}});
    g->Set(static_cast<double>(v));
  }
}

void mailbox_probe::cases(const std::map<std::string, int64_t>& by_state,
                          const std::map<std::string, int64_t>& open_by_unit,
                          const std::map<std::string, int64_t>& overdue_by_unit, int64_t unmatched_replies) {
  std::lock_guard lock(mu_);
  set_all(state_, state_children_, "state", by_state);
  set_all(open_, open_children_, "unit", open_by_unit);
  set_all(overdue_, overdue_children_, "unit", overdue_by_unit);
  unmatched_->Set(static_cast<double>(unmatched_replies));
}

void mailbox_probe::replied(double seconds, bool on_time) {
  reply_seconds_->Observe(seconds);
  std::lock_guard lock(mu_);
  replies_.Add({{"timeliness", on_time ? "on_time" : "late"}}).Increment();
}

void mailbox_probe::alert(const std::string& kind) {
  std::lock_guard lock(mu_);
  alerts_.Add({{"kind", kind}}).Increment();
}

void mailbox_probe::deadline_checks_waiting(const std::map<std::string, int64_t>& by_reason) {
  std::lock_guard lock(mu_);
  set_all(waiting_, waiting_children_, "reason", by_reason);
}

void mailbox_probe::clustered(uint64_t messages, double seconds, size_t tracked) {
  clustered_->Increment(static_cast<double>(messages));
  cluster_seconds_->Increment(seconds);
  tracked_->Set(static_cast<double>(tracked));
}

}  // namespace yuqing::daemon
