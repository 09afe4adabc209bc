// app: the daemon's lifecycle.
//
// Operation: start-up is a table of steps (plan, storage, keyword sets, backtests,
// embedded Kafka, HTTP, notifier, alerting, mailbox, risk, briefings, ingest); each step
// that succeeds pushes its stop, and the stops always run in reverse order. Shutdown therefore stops consuming, drains and
// commits, stops HTTP, flushes RocksDB and stops the embedded broker last.
//
// Signals: SIGTERM and SIGINT stop the daemon, SIGHUP asks for a keyword-set reload. They
// are blocked in every thread and taken synchronously by run() (sigtimedwait), so no code
// runs in a signal handler.
//
// Reload: sets::keyword_sets (sets/keyword_sets.h) owns the sets in force; it reloads on
// inotify, SIGHUP and POST /api/v1/keyword-sets/reload, and ingest reads its current
// matcher at each batch. Routes need a token of their role (http.token or http.people).
#pragma once

#include <filesystem>
#include <memory>

#include "config/config.h"

namespace yuqing::daemon {

extern const char* const version;

class app {
 public:
  explicit app(config::daemon_config cfg);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // Runs until SIGTERM or SIGINT; returns the process exit code.
  int run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (call before any thread starts).
void block_signals();

}  // namespace yuqing::daemon
