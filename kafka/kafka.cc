#include "kafka/kafka.h"

#include <chrono>
#include <random>

#include <spdlog/spdlog.h>

#include "common/logging.h"

namespace yuqing::kafka {

void kafka_handle_deleter::operator()(rd_kafka_t* rk) const {
  // A consumer is closed by its owner (close_consumer, bounded); an implicit close here
  // could wait without end for a coordinator that cannot be reached.
  if (rk) rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

bool close_consumer(rd_kafka_t* rk, int timeout_ms, rebalance_fn rebalance, void* opaque) {
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  bool closed = false;
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk, q)) {
    rd_kafka_error_destroy(e);
  } else {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!(closed = rd_kafka_consumer_closed(rk)) && std::chrono::steady_clock::now() < until) {
      // Events, not callbacks: the queue also carries messages and errors, which
      // rd_kafka_queue_poll_callback refuses (an assertion in librdkafka).
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 100);
      if (!ev) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
        if (rebalance) {
          rebalance(rk, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), opaque);
        } else if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
          rd_kafka_assign(rk, nullptr);
        }
      }
      rd_kafka_event_destroy(ev);
    }
  }
  rd_kafka_queue_destroy(q);
  return closed;
}

namespace {
// Every handle logs through here, never on raw stderr: one spdlog line each, so the
// logging's redaction of configured secrets covers librdkafka's lines.
void log_from_kafka(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  const int shown = kafka_log_level(level, fac, buf);
  if (shown <= 3) spdlog::error("event=kafka_log facility={} message=\"{}\"", fac, buf);
  else if (shown <= 4) spdlog::warn("event=kafka_log facility={} message=\"{}\"", fac, buf);
  else spdlog::debug("event=kafka_log facility={} message=\"{}\"", fac, buf);
}
}  // namespace

int kafka_log_level(int level, std::string_view facility, std::string_view message) {
  if (facility == "COMMITFAIL") return 7;
  if (level >= 4) return level;
  if (facility == "FAIL" || facility == "REQTMOUT") return 4;
  if (facility != "ERROR" || message.find("brokers are down") != std::string_view::npos) return level;
  // librdkafka's error events (logged under ERROR when no error callback is set): one
  // broker's transport, which librdkafka retries, is a warning.
  for (const std::string_view transient : {"Disconnected", "Connect to ", "timed out", "Receive failed",
                                           "Send failed", "Connection refused", "transport failure"})
    if (message.find(transient) != std::string_view::npos) return 4;
  return level;
}

result<rd_kafka_conf_t*> make_kafka_conf(const std::string& bootstrap,
                                         const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_from_kafka);
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> bool {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK;
  };
  if (!set("bootstrap.servers", bootstrap)) {
    rd_kafka_conf_destroy(conf);
    return error{std::string("kafka: bootstrap.servers: ") + err};
  }
  for (const auto& [k, v] : properties) {
    if (!set(k, v)) {
      rd_kafka_conf_destroy(conf);
      // librdkafka's message may quote the value, whole or cut short: blank out every
      // piece of it, it may be a secret.
      return error{"kafka.properties: " + k + ": " + common::redact(err, {v})};
    }
  }
  return conf;
}

result<std::unique_ptr<embedded_kafka>> embedded_kafka::start(int brokers) {
  std::unique_ptr<embedded_kafka> k(new embedded_kafka());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_from_kafka);
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) return error{std::string("embedded kafka: ") + err};
  k->owner_.reset(rk);
  k->cluster_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (!k->cluster_) return error{"embedded kafka: cannot start the mock cluster"};
  k->bootstrap_ = rd_kafka_mock_cluster_bootstraps(k->cluster_);
  std::random_device random;
  k->id_ = fmt::format("embedded-{:08x}{:08x}", random(), random());
  return k;
}

embedded_kafka::~embedded_kafka() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
}

status embedded_kafka::set_brokers_up(bool up) {
  const auto e = up ? rd_kafka_mock_broker_set_up(cluster_, -1)
                    : rd_kafka_mock_broker_set_down(cluster_, -1);
  if (e) return error{std::string("embedded kafka: ") + rd_kafka_err2str(e)};
  return ok_status();
}

status embedded_kafka::set_rtt(int rtt_ms) {
  if (const auto e = rd_kafka_mock_broker_set_rtt(cluster_, -1, rtt_ms))
    return error{std::string("embedded kafka: ") + rd_kafka_err2str(e)};
  return ok_status();
}

status embedded_kafka::create_topic(const std::string& topic, int partitions) {
  const auto e = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return error{"embedded kafka: create topic " + topic + ": " + rd_kafka_err2str(e)};
  }
  return ok_status();
}

rd_kafka_resp_err_t commit_within(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* offsets,
                                  int timeout_ms) {
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  auto err = rd_kafka_commit_queue(rk, offsets, q, nullptr, nullptr);
  if (!err) {
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms)) {
      err = rd_kafka_event_error(ev);
      rd_kafka_event_destroy(ev);
    } else {
      err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    }
  }
  rd_kafka_queue_destroy(q);  // an outcome that comes later is dropped with it
  return err;
}

result<kafka_handle> make_group_consumer(const std::string& bootstrap,
                                         const std::map<std::string, std::string>& properties,
                                         const consumer_options& options) {
  auto conf = make_kafka_conf(bootstrap, properties);
  if (!conf) return error{conf.error_message()};
  char err[512];
  std::map<std::string, std::string> fixed = options.fixed;
  fixed.insert({
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"partition.assignment.strategy", "range,roundrobin"},  // eager: see README
  });
  for (const auto& [k, v] : fixed) {
    if (rd_kafka_conf_set(*conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(*conf);
      return error{"kafka: " + k + ": " + err};
    }
  }
  if (!properties.count("auto.offset.reset"))
    rd_kafka_conf_set(*conf, "auto.offset.reset", "earliest", err, sizeof err);
  rd_kafka_conf_set_opaque(*conf, options.opaque);
  if (options.rebalance) rd_kafka_conf_set_rebalance_cb(*conf, options.rebalance);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(*conf);
    return error{std::string("kafka consumer: ") + err};
  }
  kafka_handle handle(rk);
  rd_kafka_poll_set_consumer(rk);
  auto* topics = rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size()));
  for (const auto& t : options.topics)
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  const auto e = rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) return error{std::string("kafka subscribe: ") + rd_kafka_err2str(e)};
  return handle;
}

result<std::unique_ptr<sync_producer>> sync_producer::create(
    const std::string& bootstrap, const std::map<std::string, std::string>& properties) {
  auto conf = make_kafka_conf(bootstrap, properties);
  if (!conf) return error{conf.error_message()};
  std::unique_ptr<sync_producer> p(new sync_producer());
  char err[512];
  rd_kafka_conf_set(*conf, "acks", "all", err, sizeof err);
  rd_kafka_conf_set(*conf, "message.max.bytes", "16777216", err, sizeof err);
  // Keyed messages go where Java clients put them; alerting relies on it (hits by topic).
  rd_kafka_conf_set(*conf, "partitioner", "murmur2_random", err, sizeof err);
  rd_kafka_conf_set_opaque(*conf, p.get());
  rd_kafka_conf_set_dr_msg_cb(*conf, &sync_producer::on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(*conf);
    return error{std::string("kafka producer: ") + err};
  }
  p->rk_.reset(rk);
  return p;
}

void sync_producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<sync_producer*>(opaque);
  if (m->err) {
    ++self->failed_;
    self->last_error_ = rd_kafka_err2str(m->err);
  } else {
    ++self->delivered_;
  }
}

status sync_producer::produce(const std::string& topic, std::string_view key,
                              std::string_view value, const std::vector<header>& headers) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& h : headers)
      rd_kafka_header_add(hdrs, h.name.data(), h.name.size(), h.value.data(), h.value.size());
  }
  while (true) {
    const auto e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs ? rd_kafka_headers_copy(hdrs) : nullptr), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_.get(), 100);
      continue;
    }
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return error{std::string("produce: ") + rd_kafka_err2str(e)};
    ++queued_;
    rd_kafka_poll(rk_.get(), 0);
    return ok_status();
  }
}

bool sync_producer::prepare(const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk_.get(), 0, rkt, &md, timeout_ms);
  const bool ok = !err && md->topic_cnt == 1 && !md->topics[0].err;
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return ok;
}

size_t sync_producer::flush(int timeout_ms, const std::function<bool()>& give_up) {
  if (!give_up) {
    rd_kafka_flush(rk_.get(), timeout_ms);
  } else {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (rd_kafka_flush(rk_.get(), 100) == RD_KAFKA_RESP_ERR__TIMED_OUT &&
           std::chrono::steady_clock::now() < until && !give_up()) {
    }
  }
  const size_t undelivered = queued_ - delivered_;
  if (undelivered > 0) {  // give up on what is left, so the next round counts afresh
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), 1000);
  }
  queued_ = delivered_ = failed_ = 0;
  return undelivered;
}

}  // namespace yuqing::kafka
