// clock: the injectable source of time (STYLE.md habit 13). Production code takes a
// `const clock&`; tests pass a manual_clock and move it by hand, never sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace yuqing {

class clock {
 public:
  virtual ~clock() = default;
  // Milliseconds since the Unix epoch (wall time, used for stored timestamps).
  virtual int64_t now_ms() const = 0;
};

class system_clock final : public clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Thread-safe: set/advance may race with now_ms.
class manual_clock final : public clock {
 public:
  explicit manual_clock(int64_t start_ms = 0) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void set_ms(int64_t t) { now_.store(t); }
  void advance_ms(int64_t d) { now_.fetch_add(d); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace yuqing
