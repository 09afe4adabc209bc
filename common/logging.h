// logging: the daemon's log lines, one per event, on stderr: `key=value` text (the default)
// or one JSON object per line (log.format: json) with the same keys plus time and level.
// Called once by main() before anything logs. Thread-safe afterwards (spdlog's).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/result.h"

namespace yuqing::common {

// level: trace, debug, info, warn, error; format: text or json. No line shows any of
// `secrets` or a fragment of one (see redact()): librdkafka's lines come here too
// (kafka/kafka.cc), so nothing of a configured secret reaches stderr.
status setup_logging(const std::string& level, const std::string& format,
                     const std::vector<std::string>& secrets = {});

// `text` with every occurrence of a secret, and of every fragment of one of
// min_secret_fragment bytes or more, replaced by "***" (a value cut short by a message's
// length limit, or quoted in part, is still caught). A secret shorter than that is replaced
// where it occurs whole.
constexpr size_t min_secret_fragment = 8;
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

// "event=x n=3 error=\"a b\"" -> {"event":"x","n":"3","error":"a b"} (exposed for tests);
// words that are not key=value go to "msg".
std::string kv_line_to_json(std::string_view line, const std::string& time, const std::string& level);

}  // namespace yuqing::common
