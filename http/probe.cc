#include "http/probe.h"

#include "metrics/registry.h"

namespace yuqing::http {

using metrics::add_family;
using metrics::add_value;

std::vector<prometheus::MetricFamily> families(uint64_t connections, uint64_t event_streams) {
  std::vector<prometheus::MetricFamily> out;
  auto& f = add_family(out, "yuqing_http_refused_total",
                       "What the HTTP limits turned away: connections closed at accept (API, client and "
                       "reserved slots full) and event streams refused (503)",
                       prometheus::MetricType::Counter);
  add_value(f, static_cast<double>(connections), {{"what", "connection"}});
  add_value(f, static_cast<double>(event_streams), {{"what", "event_stream"}});
  return out;
}

}  // namespace yuqing::http
