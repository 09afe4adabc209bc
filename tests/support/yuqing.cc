#include "tests/support/yuqing.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "storage/store.h"

namespace yuqing::testing {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string kafka_head(const std::string& bootstrap, const std::string& extra,
                       const std::string& properties) {
  return "kafka:\n  brokers: \"" + bootstrap + "\"\n" + extra + "  properties: {" + properties + "}\n";
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

double metric(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

broker_process::broker_process(const fs::path& dir, const std::vector<std::string>& topics,
                               int partitions, int rtt_ms)
    : log_(dir / "broker.log") {
  fs::create_directories(dir);
  std::vector<std::string> argv = {YUQINGCTL, "broker", "--partitions", std::to_string(partitions)};
  if (rtt_ms > 0) argv.insert(argv.end(), {"--rtt-ms", std::to_string(rtt_ms)});
  for (const auto& t : topics) argv.insert(argv.end(), {"--topic", t});
  proc_.emplace(argv, log_);
  REQUIRE(eventually([&] {
    const auto text = read_file(log_);
    const auto nl = text.find('\n');
    if (nl == std::string::npos) return false;
    bootstrap_ = text.substr(0, nl);
    return true;
  }, 30s));
}

void broker_process::set_up(bool up) { proc_->signal(up ? SIGUSR2 : SIGUSR1); }

int broker_process::produce(const std::string& topic, const fs::path& file) const {
  return shell("kcat -P -b " + bootstrap_ + " -t " + topic + " -l " + file.string() + " 2>&1").first;
}

daemon_process::daemon_process(fs::path dir, const std::string& head, const fs::path& sets,
                               const std::string& sets_extra, const std::string& http_extra)
    : dir_(std::move(dir)), port_(free_port()) {
  fs::create_directories(dir_);
  write_file(dir_ / "yuqing.yaml",
             head + "storage: {path: data}\nkeyword_sets: {dir: " + sets.string() + sets_extra +
                 "}\nplan: {path: " + YUQING_SOURCE_DIR + "/seeds/plan.yaml}\nhttp: {listen: \"127.0.0.1:" +
                 std::to_string(port_) + "\"" + http_extra + "}\n" +
                 (head.find("ingest:") == std::string::npos ? "ingest: {batch_max_wait_ms: 20}\n" : ""));
}

daemon_process::~daemon_process() = default;

std::string daemon_process::start() {
  proc_.emplace(std::vector<std::string>{YUQINGD, "--config", (dir_ / "yuqing.yaml").string()},
                dir_ / "yuqingd.log");
  REQUIRE(eventually([&] { return http_get(port_, "/readyz").status == 200; }, 90s));
  return status()["kafka"]["bootstrap"];
}

void daemon_process::kill9() {
  proc_->signal(SIGKILL);
  proc_->wait(10s);
  proc_.reset();
}

int daemon_process::stop() {
  proc_->signal(SIGTERM);
  const int rc = proc_->wait(60s);
  proc_.reset();
  return rc;
}

void daemon_process::signal(int sig) { proc_->signal(sig); }

nlohmann::json daemon_process::status() const {
  const auto r = http_get(port_, "/api/v1/status");
  if (r.status != 200) return nlohmann::json::object();
  return nlohmann::json::parse(r.body);
}

std::string daemon_process::metrics() const { return http_get(port_, "/metrics").body; }

std::string daemon_process::log() const { return read_file(dir_ / "yuqingd.log"); }

int64_t stored_offsets(const fs::path& data, const std::string& topic, int partitions) {
  auto s = storage::store::open({data, false, true});
  if (!s) return -1;
  int64_t sum = 0;
  for (int p = 0; p < partitions; ++p) sum += (*s)->next_offset(topic, p)->value_or(0);
  return sum;
}

std::multiset<std::string> stored_hits(const fs::path& data) {
  auto s = storage::store::open({data, false, true});
  REQUIRE(s.ok());
  storage::hit_query q;
  q.limit = std::numeric_limits<size_t>::max();
  auto hits = (*s)->hits(q);
  REQUIRE(hits.ok());
  std::multiset<std::string> out;
  for (const auto& h : *hits) out.insert(h.message_key + " " + h.rule_id);
  return out;
}

std::string hit_difference(const std::multiset<std::string>& got,
                           const std::multiset<std::string>& expected) {
  std::vector<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  const auto some = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < 10; ++i) out += (i ? ", " : "") + v[i];
    return out + (v.size() > 10 ? ", ..." : "");
  };
  if (missing.empty() && extra.empty()) return "";
  return "missing " + std::to_string(missing.size()) + " [" + some(missing) + "]; extra " +
         std::to_string(extra.size()) + " [" + some(extra) + "]";
}

}  // namespace yuqing::testing
