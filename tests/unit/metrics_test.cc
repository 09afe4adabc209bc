// metrics::registry: the families registered by probes, the process's from /proc, build
// info, and collectors computed at each scrape.
#include <catch2/catch.hpp>

#include <prometheus/counter.h>

#include <string>

#include "metrics/registry.h"

using namespace yuqing;

TEST_CASE("metrics: a scrape holds the registered families, the process's and each collector once", "[metrics]") {
  metrics::registry r;
  metrics::add_build_info(r, "9.9.9", 1700000000000);
  prometheus::BuildCounter().Name("yuqing_test_total").Help("a test counter")
      .Register(r.prometheus_registry()).Add({{"k", "v"}}).Increment(3);
  int scrapes = 0;
  r.add_collector([&scrapes] {
    ++scrapes;
    std::vector<prometheus::MetricFamily> out;
    metrics::add_value(metrics::add_family(out, "yuqing_test_collected", "computed at scrape time",
                                           prometheus::MetricType::Gauge),
                       scrapes, {{"scrape", "n"}});
    return out;
  });
  const std::string text = r.expose();
  CHECK(text.find("yuqing_build_info{version=\"9.9.9\"} 1") != std::string::npos);
  CHECK(text.find("yuqing_start_time_seconds 1700000000") != std::string::npos);
  CHECK(text.find("yuqing_test_total{k=\"v\"} 3") != std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
  CHECK(text.find("yuqing_test_collected{scrape=\"n\"} 1") != std::string::npos);
  CHECK(r.expose().find("yuqing_test_collected{scrape=\"n\"} 2") != std::string::npos);  // computed again
  CHECK(text.find("# TYPE yuqing_test_collected gauge") == text.rfind("# TYPE yuqing_test_collected gauge"));
}
