// common/json: the one way yuqing writes JSON text: compact, and a string that is not
// valid UTF-8 has its bad bytes replaced (U+FFFD) instead of throwing.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace yuqing::common {

inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace yuqing::common
