// Test helpers: child processes, free ports, a blocking HTTP GET and shell commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"  // temp_dir, for the tests that include this header

namespace yuqing::testing {

// A child process whose stdout and stderr go to `log`. Killed (SIGKILL) if still running
// when destroyed.
class child {
 public:
  child(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~child();
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
};

uint16_t free_port();

struct http_result {
  int status = 0;  // 0: could not connect
  std::string body;
};
// With `token`: "Authorization: Bearer token" (reading alerts, hits, cases... when the
// daemon has tokens).
http_result http_get(uint16_t port, const std::string& target, const std::string& token = "");
// A request with a body and, when `token` is set, "Authorization: Bearer token".
http_result http_post(uint16_t port, const std::string& target, const std::string& body,
                      const std::string& token = "", const std::string& method = "POST");

// Runs a shell command; returns its exit code and standard output.
std::pair<int, std::string> shell(const std::string& command);

// Polls `cond` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace yuqing::testing
