// result<T>: a value or an error message. The vocabulary type of every fallible call on
// the consume -> match -> store path, which does not throw (STYLE.md habit 6).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace yuqing {

struct error {
  std::string message;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  result(error e) : v_(std::move(e)) {}              // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T& operator*() const& { return value(); }
  const std::string& error_message() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, error> v_;
};

// A status is a result with no value.
struct ok_t {};
using status = result<ok_t>;
inline status ok_status() { return ok_t{}; }

}  // namespace yuqing
