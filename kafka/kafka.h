// Kafka plumbing shared by the daemon and yuqingctl: client configuration, the embedded
// mock cluster and a producer that waits for delivery.
//
// embedded_kafka: librdkafka's mock cluster (rdkafka_mock.h) inside this process. It
// listens on 127.0.0.1 (ports chosen by the OS), speaks the Kafka protocol to any client
// (kcat included) and keeps a few MB per partition (older messages are deleted, read or
// not). For demos and tests: everything is gone when it is destroyed. Lives until
// destroyed; destroy it after every client that uses it. Each one has a random id of its
// own (cluster_id()), not the mock cluster's, which two starts need not tell apart.
//
// Errors: no exceptions; configuration errors name the property (never its value, which
// may be a secret).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/result.h"

namespace yuqing::kafka {

struct kafka_handle_deleter {
  void operator()(rd_kafka_t* rk) const;
};
using kafka_handle = std::unique_ptr<rd_kafka_t, kafka_handle_deleter>;

// A configuration with bootstrap.servers and `properties` set; the caller owns it. Its
// handles log through spdlog (one line each, never raw stderr), where the logging redacts
// configured secrets; an error quotes no piece of a rejected value.
result<rd_kafka_conf_t*> make_kafka_conf(const std::string& bootstrap,
                                         const std::map<std::string, std::string>& properties);

// The level at which a line of librdkafka is logged (every handle's; its error events come
// as lines of facility ERROR, as no error callback is set: with one, the events of a handle
// not polled at that moment were not logged at all). A line keeps its level, except:
// COMMITFAIL is debug (the caller logs failed commits once); FAIL (a broker connection
// lost), REQTMOUT (a request timed out) and an ERROR line about one broker's transport
// (disconnected, connect or send or receive failed, timed out) are warnings, since
// librdkafka reconnects and retries by itself and a rebalance storm on a busy machine has
// them. The whole cluster unreachable ("brokers are down"), refused authentication or TLS
// and anything else stay errors. A lasting outage also shows in the metrics
// (YuqingIngestPaused, consumer lag).
int kafka_log_level(int level, std::string_view facility, std::string_view message);

// The rebalance callback of a group consumer (librdkafka's rebalance_cb).
using rebalance_fn = void (*)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*);

// A consumer in a group, subscribed to `topics`: manual commits only (no auto commit, no
// auto offset store), eager assignment (range,roundrobin: see the README), earliest reset
// unless the properties say otherwise, librdkafka's logs as one line each (as every
// handle's; COMMITFAIL demoted to debug: the caller logs failed commits once). `opaque`
// goes to the callbacks.
struct consumer_options {
  std::string group_id;
  std::map<std::string, std::string> fixed;  // set after `properties` (they win)
  std::vector<std::string> topics;
  void* opaque = nullptr;
  rebalance_fn rebalance = nullptr;
};
result<kafka_handle> make_group_consumer(const std::string& bootstrap,
                                         const std::map<std::string, std::string>& properties,
                                         const consumer_options& options);

// Leaves the group (`rebalance` sees the revocation, with `opaque`) and waits at most
// timeout_ms; false when it did not finish. librdkafka's rd_kafka_consumer_close can wait
// without end while no broker answers (librdkafka issue #3740). Handles are destroyed
// without a further implicit close.
bool close_consumer(rd_kafka_t* rk, int timeout_ms, rebalance_fn rebalance = nullptr,
                    void* opaque = nullptr);

// Commits `offsets` and waits at most timeout_ms for the outcome (__TIMED_OUT when none
// came). rd_kafka_commit's synchronous form waits without end while no coordinator can be
// reached, which would hold up a revocation or a shutdown.
rd_kafka_resp_err_t commit_within(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* offsets,
                                  int timeout_ms);

class embedded_kafka {
 public:
  static result<std::unique_ptr<embedded_kafka>> start(int brokers);
  ~embedded_kafka();
  embedded_kafka(const embedded_kafka&) = delete;
  embedded_kafka& operator=(const embedded_kafka&) = delete;

  status create_topic(const std::string& topic, int partitions);
  // Fault injection: every broker drops its connections and refuses new ones (down) or
  // accepts them again (up); a round-trip delay on every response.
  status set_brokers_up(bool up);
  status set_rtt(int rtt_ms);
  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& cluster_id() const { return id_; }
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

 private:
  embedded_kafka() = default;
  kafka_handle owner_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  std::string id_;
};

// A producer that reports, per flush, how many messages were not delivered.
// Thread-compatible: one thread produces and flushes.
class sync_producer {
 public:
  static result<std::unique_ptr<sync_producer>> create(
      const std::string& bootstrap, const std::map<std::string, std::string>& properties);

  struct header {
    std::string name, value;
  };
  // Queues one message (partition chosen by key hash).
  status produce(const std::string& topic, std::string_view key, std::string_view value,
                 const std::vector<header>& headers = {});
  // Waits up to timeout_ms for every queued message, or until give_up() says so (asked
  // every 100 ms); returns the number that failed or did not finish in time (0: all
  // delivered), which are purged, and clears the count.
  size_t flush(int timeout_ms, const std::function<bool()>& give_up = {});
  // Learns the leaders of `topic`'s partitions (up to timeout_ms) so that its first message
  // does not wait for them; false when the brokers did not say.
  bool prepare(const std::string& topic, int timeout_ms);
  const std::string& last_error() const { return last_error_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  kafka_handle rk_;
  size_t queued_ = 0;
  size_t failed_ = 0;
  size_t delivered_ = 0;
  std::string last_error_;
};

}  // namespace yuqing::kafka
