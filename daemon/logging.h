// logging: the daemon's log lines, one per event, on stderr: `key=value` text (the default)
// or one JSON object per line (log.format: json) with the same keys plus time and level.
// Called once by main() before anything logs. Thread-safe afterwards (spdlog's).
#pragma once

#include <string>

#include "config/result.h"

namespace yuqing::daemon {

// level: trace, debug, info, warn, error; format: text or json.
status setup_logging(const std::string& level, const std::string& format);

// "event=x n=3 error=\"a b\"" -> {"event":"x","n":"3","error":"a b"} (exposed for tests);
// words that are not key=value go to "msg".
std::string kv_line_to_json(std::string_view line, const std::string& time, const std::string& level);

}  // namespace yuqing::daemon
