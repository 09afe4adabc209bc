#include "alerting/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kafka/kafka.h"

namespace yuqing::alerting {

// Every alert of the store (column family alerts: id -> the alert as JSON).
result<std::vector<std::string>> stored_alert_texts(const storage::store& s) {
  std::vector<std::string> out;
  auto st = s.scan("alerts", "", [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  if (!st) return error{st.error_message()};
  return out;
}

namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr const char* metadata_prefix = "evaluated=";

alerting::settings settings_of(const config::daemon_config& c) {
  alerting::settings s;
  s.repeat_ms = int64_t{c.alert_repeat_minutes} * 60000;
  s.escalate_ms = int64_t{c.alert_escalate_minutes} * 60000;
  s.clock_warning_ms = int64_t{c.clock_warning_minutes} * 60000;
  s.release_ms = int64_t{c.clock_release_hours} * 3600000;
  s.respond_major_ms = int64_t{c.clock_respond_major_hours} * 3600000;
  s.respond_other_ms = int64_t{c.clock_respond_other_hours} * 3600000;
  s.close_unattended.clear();
  for (const auto& l : c.alert_close_unattended_levels)
    if (auto level = parse_alert_level(l)) s.close_unattended.push_back(*level);
  s.close_grace_ms = int64_t{c.alert_close_grace_minutes} * 60000;
  return s;
}

bool has_unit(const alerting::alert& a, const std::string& unit) {
  const auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), unit) != v.end(); };
  const auto label = a.labels.find("unit");
  return in(a.lead_units) || in(a.cooperating_units) || (label != a.labels.end() && label->second == unit);
}

std::string event_json(const alerting::notification& n) {
  return json{{"reason", alerting::to_string(n.why)},
              {"detail", n.detail},
              {"alert", json::parse(n.snapshot.to_json())}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

struct service::impl {
  impl(const config::daemon_config& c, std::string b, storage::store& s, alerting::rules_source k,
       std::shared_ptr<const config::plan> plan, alerting::probe& p, notifier& n,
       std::shared_ptr<http::event_stream> es, const clock& ck)
      : cfg(c), bootstrap(std::move(b)), store(s), sets(std::move(k)), probe(p), sink(n),
        stream(std::move(es)), clk(ck), ev(settings_of(c), std::move(plan)) {}

  const config::daemon_config& cfg;
  std::string bootstrap;
  storage::store& store;
  alerting::rules_source sets;
  alerting::probe& probe;
  notifier& sink;
  std::shared_ptr<http::event_stream> stream;
  const clock& clk;

  std::mutex mu;  // evaluator, producer, positions
  alerting::evaluator ev;
  kafka::kafka_handle consumer;
  std::unique_ptr<kafka::sync_producer> producer;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  int32_t partition_count = 0;
  std::map<int32_t, int64_t> next;       // next offset to evaluate, per assigned partition
  std::map<int32_t, int64_t> evaluated;  // below this: replay (evaluated before)
  bool invalid_logged = false;

  // The set in force with this id (its alert rules and name); kept alive by the book.
  std::pair<std::shared_ptr<const rule_book>, const set_alerts*> set_of(const std::string& set_id) const {
    auto book = sets();
    const auto it = book->find(set_id);
    return {book, it == book->end() ? nullptr : &it->second};
  }

  // Keeps (one synced write), publishes (one flush) and hands on alert changes; the
  // caller holds mu. hit_times: per notification, the hit's time on the hits topic (or -1).
  void deliver(const std::vector<alerting::notification>& notes,
               const std::vector<int64_t>& hit_times = {}) {
    if (notes.empty()) return;
    bool produced = false;
    std::vector<std::pair<std::string, std::string>> records;
    for (const auto& n : notes) records.emplace_back(n.snapshot.id, n.snapshot.to_json());
    if (auto st = store.put("alerts", records); !st)
      spdlog::error("event=alerts_not_stored alerts={} error=\"{}\"", notes.size(), st.error_message());
    for (size_t i = 0; i < notes.size(); ++i) {
      const auto& n = notes[i];
      const auto& a = n.snapshot;
      const int64_t hit_time_ms = i < hit_times.size() ? hit_times[i] : -1;
      const std::string body = event_json(n);
      if (auto st = producer->produce(cfg.alerts_topic, a.fingerprint, body); !st)
        spdlog::error("event=alert_not_published id={} error=\"{}\"", a.id, st.error_message());
      else produced = true;
      spdlog::info("event=alert_{} id={} level={} kind={} topic={} set={} rule={} count={} state={} condition={}{}",
                   alerting::to_string(n.why), a.id, alerting::to_string(a.level), a.kind, a.topic,
                   a.set_id, a.alert_rule, a.count, alerting::to_string(a.state), alerting::to_string(a.condition),
                   n.detail.empty() ? "" : " detail=" + n.detail);
      if (n.why == alerting::reason::acknowledged)
        probe.acknowledged(alerting::to_string(a.level),
                           static_cast<double>(a.acknowledged_ms - a.fired_ms) / 1000.0);
      if (n.why == alerting::reason::fired) {
        probe.fired(alerting::to_string(a.level), a.kind);
        if (hit_time_ms >= 0)
          probe.latency(std::max<double>(0, static_cast<double>(clk.now_ms() - hit_time_ms) / 1000.0));
      }
      sink.notify(n);
      if (stream) stream->publish("alert", body);
    }
    if (produced) {
      if (const size_t failed = producer->flush(stopping ? 3000 : 10000); failed) {
        probe.failed("kafka");
        spdlog::error("event=alert_not_published undelivered={} error=\"{}\"", failed, producer->last_error());
      } else {
        probe.sent("kafka");
      }
    }
    std::map<std::array<std::string, 3>, int> active;
    for (const auto& a : ev.alerts())
      if (a.active()) ++active[{alerting::to_string(a.level), a.topic, alerting::to_string(a.state)}];
    probe.active(active);
  }

  int32_t partition_of(const std::string& topic) const {
    if (partition_count <= 0) return -1;
    return rd_kafka_msg_partitioner_murmur2_random(nullptr, topic.data(), topic.size(),
                                                   partition_count, nullptr, nullptr);
  }

  // The latest state of every alert in the alerts topic (how another instance left them).
  std::map<std::string, alerting::alert> read_alerts_topic() {
    std::map<std::string, alerting::alert> out;
    auto conf = kafka::make_kafka_conf(bootstrap, cfg.kafka_properties);
    if (!conf) return out;
    char err[512];
    rd_kafka_conf_set(*conf, "group.id", (cfg.kafka_group_id + ".alerting-restore").c_str(), err, sizeof err);
    rd_kafka_conf_set(*conf, "enable.auto.commit", "false", err, sizeof err);
    kafka::kafka_handle rk(rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err));
    if (!rk) {
      rd_kafka_conf_destroy(*conf);
      return out;
    }
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), cfg.alerts_topic.c_str(), nullptr);
    const auto e = rd_kafka_metadata(rk.get(), 0, rkt, &md, 5000);
    rd_kafka_topic_destroy(rkt);
    if (e || md->topic_cnt < 1 || md->topics[0].err) {
      if (md) rd_kafka_metadata_destroy(md);
      return out;
    }
    auto* parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    std::map<int32_t, int64_t> ends;
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      const int32_t p = md->topics[0].partitions[i].id;
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(rk.get(), cfg.alerts_topic.c_str(), p, &low, &high, 5000) ||
          high <= low)
        continue;
      ends[p] = high;
      rd_kafka_topic_partition_list_add(parts, cfg.alerts_topic.c_str(), p)->offset = low;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_assign(rk.get(), parts);
    rd_kafka_topic_partition_list_destroy(parts);
    const auto deadline = steady::now() + std::chrono::seconds(30);
    while (!ends.empty() && steady::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
      if (!m) continue;
      if (!m->err) {
        const auto j = json::parse(std::string_view(static_cast<const char*>(m->payload), m->len),
                                   nullptr, false);
        if (j.is_object() && j.contains("alert")) {
          if (auto a = alerting::alert::from_json(j["alert"].dump())) out[a->id] = std::move(*a);
        }
        if (m->offset + 1 >= ends[m->partition]) ends.erase(m->partition);
      }
      rd_kafka_message_destroy(m);
    }
    kafka::close_consumer(rk.get(), 10000);
    return out;
  }

  void on_assign(rd_kafka_topic_partition_list_t* parts) {
    if (rd_kafka_committed(consumer.get(), parts, 10000))
      spdlog::warn("event=alerting_committed_unknown action=evaluate_live");
    {
      const rd_kafka_metadata_t* md = nullptr;
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(consumer.get(), cfg.hits_topic.c_str(), nullptr);
      if (!rd_kafka_metadata(consumer.get(), 0, rkt, &md, 5000) && md->topic_cnt == 1)
        partition_count = md->topics[0].partition_cnt;
      if (md) rd_kafka_metadata_destroy(md);
      rd_kafka_topic_destroy(rkt);
    }
    std::set<int32_t> mine;
    std::lock_guard lock(mu);
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& tp = parts->elems[i];
      mine.insert(tp.partition);
      int64_t done = -1;
      const std::string meta(static_cast<const char*>(tp.metadata ? tp.metadata : ""), tp.metadata_size);
      if (meta.rfind(metadata_prefix, 0) == 0) {
        try {
          done = std::stoll(meta.substr(std::strlen(metadata_prefix)));
        } catch (const std::exception&) {  // not ours: evaluate from the offset on, live
          spdlog::warn("event=alerting_metadata_unreadable partition={} action=evaluate_live", tp.partition);
        }
      }
      evaluated[tp.partition] = done;
      next[tp.partition] = tp.offset >= 0 ? tp.offset : -1;
    }
    // The active alerts of the policy topics these partitions carry: this instance's
    // store, then the alerts topic (another instance may have moved them on).
    std::map<std::string, alerting::alert> known;
    if (auto stored = stored_alert_texts(store)) {
      for (const auto& text : *stored)
        if (auto a = alerting::alert::from_json(text)) known[a->id] = std::move(*a);
    }
    for (auto& [id, a] : read_alerts_topic()) {
      auto it = known.find(id);
      if (it == known.end() || a.audit.size() >= it->second.audit.size()) known[id] = std::move(a);
    }
    size_t restored = 0;
    for (const auto& [id, a] : known) {
      // Rule alerts follow their policy topic's partition; the others (mailbox cases, lost
      // messages) were restored at start from this instance's store.
      if (!a.active() || a.origin != "rules" || !mine.count(partition_of(a.topic))) continue;
      ev.restore(a);
      ++restored;
    }
    std::string list;
    for (int32_t p : mine) {
      list += (list.empty() ? "" : ",") + std::to_string(p) + "@" + std::to_string(next[p]) +
              (evaluated[p] > next[p] ? "(replay to " + std::to_string(evaluated[p]) + ")" : "");
    }
    spdlog::info("event=alerting_assigned topic={} partitions={} active_alerts_restored={}",
                 cfg.hits_topic, list, restored);
    rd_kafka_assign(consumer.get(), parts);
  }

  void on_revoke(rd_kafka_topic_partition_list_t* parts) {
    commit(false);
    std::vector<int32_t> gone;
    std::lock_guard lock(mu);
    for (int i = 0; i < parts->cnt; ++i) {
      gone.push_back(parts->elems[i].partition);
      next.erase(parts->elems[i].partition);
      evaluated.erase(parts->elems[i].partition);
    }
    ev.forget_partitions(gone);
    spdlog::info("event=alerting_revoked partitions={}", gone.size());
    rd_kafka_assign(consumer.get(), nullptr);
  }

  static void on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) self->on_assign(parts);
    else self->on_revoke(parts);
  }

  // Commits, per partition, the oldest offset a window holds, with how far evaluation went.
  void commit(bool async) {
    std::vector<std::pair<int32_t, std::pair<int64_t, int64_t>>> todo;
    {
      std::lock_guard lock(mu);
      const auto oldest = ev.oldest_needed();
      for (const auto& [p, n] : next) {
        if (n < 0) continue;
        const auto held = oldest.find(p);
        todo.push_back({p, {held != oldest.end() ? std::min(held->second, n) : n, n}});
      }
    }
    if (todo.empty()) return;
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(todo.size()));
    for (const auto& [p, offs] : todo) {
      auto* tp = rd_kafka_topic_partition_list_add(list, cfg.hits_topic.c_str(), p);
      tp->offset = offs.first;
      const std::string meta = metadata_prefix + std::to_string(offs.second);
      tp->metadata = malloc(meta.size());
      std::memcpy(tp->metadata, meta.data(), meta.size());
      tp->metadata_size = meta.size();
    }
    if (async) rd_kafka_commit(consumer.get(), list, 1);
    else if (const auto e = kafka::commit_within(consumer.get(), list, stopping ? 3000 : 10000);
             e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
      spdlog::warn("event=alerting_commit_failed error=\"{}\"", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(list);
  }

  // Evaluates one hit event; its notifications are appended (delivered by the caller).
  void on_message(const rd_kafka_message_t* m, std::vector<alerting::notification>& notes,
                  std::vector<int64_t>& hit_times) {
    auto e = alerting::hit_event::from_json(std::string_view(static_cast<const char*>(m->payload), m->len));
    if (next.count(m->partition)) next[m->partition] = m->offset + 1;
    if (!e) {
      probe.invalid_event();
      if (!invalid_logged)
        spdlog::warn("event=alerting_invalid_event partition={} offset={} action=skip", m->partition, m->offset);
      invalid_logged = true;
      return;
    }
    const bool replay = m->offset < evaluated[m->partition];
    const auto [in_force, set] = set_of(e->set_id);
    static const std::vector<alert_rule> none;
    for (auto& n : ev.on_hit(*e, set ? set->rules : none, clk.now_ms(), replay, {m->partition, m->offset},
                             set ? set->name : "")) {
      notes.push_back(std::move(n));
      hit_times.push_back(rd_kafka_message_timestamp(m, nullptr));
    }
  }

  void run() {
    // The first alert must not wait for the alerts topic's metadata (a second on the
    // embedded broker).
    if (!producer->prepare(cfg.alerts_topic, 5000))
      spdlog::warn("event=alerts_topic_unknown topic={} effect=\"the first alert waits for its metadata\"",
                   cfg.alerts_topic);
    auto last_tick = steady::now();
    std::vector<alerting::notification> notes;
    std::vector<int64_t> hit_times;
    while (!stopping.load()) {
      // What has arrived, up to 1000 hit events, is evaluated before the alert changes it
      // caused are delivered together (one store write, one flush).
      int timeout = 100;
      for (int n = 0; n < 1000; ++n, timeout = 0) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), timeout);
        if (!m) break;
        if (!m->err) {
          std::lock_guard lock(mu);
          on_message(m, notes, hit_times);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::debug("event=alerting_consume_error error=\"{}\"", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
      }
      if (!notes.empty()) {
        std::lock_guard lock(mu);
        deliver(notes, hit_times);
        notes.clear();
        hit_times.clear();
      }
      if (steady::now() - last_tick >= std::chrono::seconds(1)) {
        last_tick = steady::now();
        {
          std::lock_guard lock(mu);
          deliver(ev.tick(clk.now_ms()));
        }
        commit(true);
      }
    }
    kafka::close_consumer(consumer.get(), 10000, &impl::on_rebalance, this);  // the revocation commits
  }
};

service::service(const config::daemon_config& cfg, std::string bootstrap,
                                   storage::store& store, alerting::rules_source sets,
                                   std::shared_ptr<const config::plan> plan, alerting::probe& probe,
                                   notifier& sink, std::shared_ptr<http::event_stream> stream,
                                   const clock& clk)
    : impl_(std::make_unique<impl>(cfg, std::move(bootstrap), store, sets, std::move(plan), probe,
                                   sink, std::move(stream), clk)) {}

service::~service() { stop(); }

status service::start() {
  auto& d = *impl_;
  auto producer = kafka::sync_producer::create(d.bootstrap, d.cfg.kafka_properties);
  if (!producer) return error{producer.error_message()};
  d.producer = std::move(producer.value());
  kafka::consumer_options co;
  co.group_id = d.cfg.kafka_group_id + ".alerting";
  co.topics = {d.cfg.hits_topic};
  // Alerts are latency-bound: a fetch waits at most 20 ms for data (default 500 ms).
  co.fixed = {{"fetch.wait.max.ms", "20"}};
  co.opaque = impl_.get();
  co.rebalance = &impl::on_rebalance;
  auto consumer = kafka::make_group_consumer(d.bootstrap, d.cfg.kafka_properties, co);
  if (!consumer) return error{consumer.error_message()};
  d.consumer = std::move(consumer.value());
  // Alerts raised here for mailbox cases and lost messages stay with the instance whose
  // store has them: back before anything raises them again (the mailbox and ingest start
  // raising before the hits topic is assigned), so that a raise updates them rather than
  // firing a second alert with the same fingerprint.
  if (auto stored = stored_alert_texts(d.store)) {
    size_t restored = 0;
    for (const auto& text : *stored)
      if (auto a = alerting::alert::from_json(text); a && a->active() && a->origin != "rules") {
        d.ev.restore(*a);
        ++restored;
      }
    spdlog::info("event=alerting_restored origin=raised_here active_alerts={}", restored);
  } else {
    spdlog::error("event=alerting_restore_failed error=\"{}\"", stored.error_message());
  }
  d.started = true;
  d.thread = std::thread([&d] { d.run(); });
  return ok_status();
}

void service::stop() {
  auto& d = *impl_;
  if (!d.started) return;
  d.started = false;
  d.stopping = true;
  if (d.thread.joinable()) d.thread.join();
}

result<alerting::alert> service::acknowledge(const std::string& id, const std::string& who,
                                                      const std::string& note) {
  std::lock_guard lock(impl_->mu);
  auto n = impl_->ev.acknowledge(id, who, note, impl_->clk.now_ms());
  if (!n) return error{n.error_message()};
  impl_->deliver({*n});
  return n->snapshot;
}

result<alerting::alert> service::handle(const std::string& id, const std::string& who,
                                                 const std::string& note) {
  std::lock_guard lock(impl_->mu);
  auto n = impl_->ev.handle(id, who, note, impl_->clk.now_ms());
  if (!n) return error{n.error_message()};
  impl_->deliver({*n});
  return n->snapshot;
}

void service::raise(alerting::alert a) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->producer) return;
  impl_->deliver(impl_->ev.raise(std::move(a), impl_->clk.now_ms()));
}

bool service::resolve(const std::string& fingerprint, const std::string& note) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->producer) return false;
  auto notes = impl_->ev.resolve(fingerprint, note, impl_->clk.now_ms());
  if (!notes) return false;
  impl_->deliver(*notes);
  return true;
}

result<std::vector<alerting::alert>> service::alerts(const alert_query& q) const {
  auto stored = stored_alert_texts(impl_->store);
  if (!stored) return error{stored.error_message()};
  std::vector<alerting::alert> out;
  for (const auto& text : *stored) {
    auto a = alerting::alert::from_json(text);
    if (!a) continue;
    if (!q.state.empty() && alerting::parse_alert_state(q.state) != a->state) continue;
    if (!q.condition.empty() && alerting::to_string(a->condition) != q.condition) continue;
    if (!q.level.empty() && alerting::to_string(a->level) != q.level) continue;
    if (!q.topic.empty() && a->topic != q.topic) continue;
    if (!q.kind.empty() && a->kind != q.kind) continue;
    if (!q.unit.empty() && !has_unit(*a, q.unit)) continue;
    out.push_back(std::move(*a));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.fired_ms > b.fired_ms; });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

}  // namespace yuqing::alerting
