#include "metrics/registry.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace yuqing::metrics {


prometheus::MetricFamily& add_family(std::vector<prometheus::MetricFamily>& out, const char* name,
                                     const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  out.push_back(std::move(f));
  return out.back();
}

void add_value(prometheus::MetricFamily& f, double v, std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) m.counter.value = v;
  else m.gauge.value = v;
  f.metric.push_back(std::move(m));
}


namespace {

// The process metrics of the Prometheus client conventions, read from /proc at each scrape.
std::vector<prometheus::MetricFamily> process_families() {
  std::vector<prometheus::MetricFamily> out;
  auto add = [&](const char* name, const char* help, prometheus::MetricType type, double v) {
    add_value(add_family(out, name, help, type), v);
  };
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces): state is field 3.
  std::istringstream in(text.substr(text.rfind(')') + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(in)), std::istream_iterator<std::string>());
  if (f.size() > 22) {  // f[0] is field 3
    add("process_cpu_seconds_total", "User and system CPU time, in seconds",
        prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / tick);
    add("process_virtual_memory_bytes", "Virtual memory size, in bytes",
        prometheus::MetricType::Gauge, std::stod(f[20]));
    add("process_resident_memory_bytes", "Resident memory size, in bytes",
        prometheus::MetricType::Gauge, std::stod(f[21]) * page);
    std::ifstream up("/proc/stat");
    for (std::string line; std::getline(up, line);) {
      if (line.rfind("btime ", 0) == 0) {
        add("process_start_time_seconds", "Start time of the process, Unix seconds",
            prometheus::MetricType::Gauge, std::stod(line.substr(6)) + std::stod(f[19]) / tick);
      }
    }
  }
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  add("process_open_fds", "Open file descriptors", prometheus::MetricType::Gauge, static_cast<double>(fds));
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
    add("process_max_fds", "Most file descriptors the process may open",
        prometheus::MetricType::Gauge, static_cast<double>(lim.rlim_cur));
  return out;
}

}  // namespace

registry::registry() : registry_(std::make_shared<prometheus::Registry>()), collectors_{process_families} {}

void registry::add_collector(collector fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string registry::expose() const {
  auto families = registry_->Collect();
  std::lock_guard lock(mu_);
  for (const auto& fn : collectors_) {
    auto more = fn();
    families.insert(families.end(), more.begin(), more.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

void add_build_info(registry& r, const std::string& version, int64_t start_time_ms) {
  prometheus::BuildGauge().Name("yuqing_build_info").Help("Version of the running yuqingd (value 1)")
      .Register(r.prometheus_registry()).Add({{"version", version}}).Set(1);
  prometheus::BuildGauge().Name("yuqing_start_time_seconds").Help("Start time of yuqingd, Unix seconds")
      .Register(r.prometheus_registry()).Add({}).Set(static_cast<double>(start_time_ms) / 1000.0);
}

}  // namespace yuqing::metrics
