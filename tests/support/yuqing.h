// Test helpers around the real binaries: a standalone mock Kafka cluster (yuqingctl
// broker) and yuqingd instances, each in its own directory. Used by the integration tests.
//
// Threads: one test thread drives everything. Errors: REQUIRE inside (Catch2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace yuqing::testing {

void write_file(const std::filesystem::path& p, const std::string& text);
std::string read_file(const std::filesystem::path& p);

// How often `needle` occurs in `text` (log lines of one event, ...).
size_t occurrences(const std::string& text, const std::string& needle);

// The value of one sample in Prometheus text format, or -1 when absent.
double metric(const std::string& exposition, const std::string& series);

// The `kafka:` map of a daemon on the standalone cluster at `bootstrap`: `extra` lines of
// the map ("  group_id: itest\n") and librdkafka `properties` ("k: v, k: v"; by default
// short sessions: the mock coordinator forgets a member that left only when its session
// times out, and short sessions keep restarts quick).
std::string kafka_head(const std::string& bootstrap, const std::string& extra = "",
                       const std::string& properties =
                           "session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\"");

// `yuqingctl broker` in a child process: the cluster survives daemon crashes, and
// SIGUSR1/SIGUSR2 take its brokers down and up.
class broker_process {
 public:
  // rtt_ms > 0: every broker response is delayed that long (a slow broker).
  broker_process(const std::filesystem::path& dir, const std::vector<std::string>& topics,
                 int partitions, int rtt_ms = 0);
  const std::string& bootstrap() const { return bootstrap_; }
  void set_up(bool up);
  // Produces the lines of `file` (one message each, no key) with kcat; returns kcat's exit code.
  int produce(const std::string& topic, const std::filesystem::path& file) const;

 private:
  std::filesystem::path log_;
  std::optional<child> proc_;
  std::string bootstrap_;
};

// yuqingd in `dir`: dir/yuqing.yaml (written by the constructor from `head` plus the shared
// settings: store in dir/data, keyword sets in `sets`, HTTP on a free port, short
// batches), dir/yuqingd.log. `sets_extra` and `http_extra` are added to the keyword_sets
// and http maps (", watch: false").
class daemon_process {
 public:
  daemon_process(std::filesystem::path dir, const std::string& head,
                 const std::filesystem::path& sets, const std::string& sets_extra = "",
                 const std::string& http_extra = "");
  ~daemon_process();

  // Starts it and waits until /readyz answers 200; returns the Kafka bootstrap in use.
  std::string start();
  void kill9();
  // SIGTERM; returns the exit code.
  int stop();
  void signal(int sig);
  bool running() const { return proc_.has_value(); }

  uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path data() const { return dir_ / "data"; }
  nlohmann::json status() const;
  std::string metrics() const;
  std::string log() const;

 private:
  std::filesystem::path dir_;
  uint16_t port_;
  std::optional<child> proc_;
};

// Read-only views of a store (safe while the daemon writes it).
// Sum of the stored next offsets of `topic`'s partitions 0..partitions-1.
int64_t stored_offsets(const std::filesystem::path& data, const std::string& topic, int partitions);
// Every stored hit as "message_key rule", in a multiset (duplicates show).
std::multiset<std::string> stored_hits(const std::filesystem::path& data);
// "" when `got` equals `expected`, else how many are missing and how many are extra (stored
// more often than expected), with the first few of each: a failed check says which.
std::string hit_difference(const std::multiset<std::string>& got,
                           const std::multiset<std::string>& expected);

}  // namespace yuqing::testing
