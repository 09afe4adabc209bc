// http probe: the server's refusals, computed at scrape time.
#pragma once

#include <prometheus/metric_family.h>

#include <cstdint>
#include <vector>

namespace yuqing::http {

// The HTTP server's refusals: yuqing_http_refused_total{what="connection"|"event_stream"}.
std::vector<prometheus::MetricFamily> families(uint64_t connections, uint64_t event_streams);

}  // namespace yuqing::http
