// Keyword-set reload benchmark (issue: tuning keyword sets).
//
// 1. Start-up with a 100k-word set: the daemon's keyword_sets::load("startup") with an
//    empty Hyperscan cache (compiles, then writes the cache) against the same with the
//    cache filled. Baseline: the compiling start-up; ratio compiled / cached.
// 2. Ingest stalls around swaps of a 10k-word set: the pipeline runs as ingest does
//    (batch_builder + batch_writer, synced RocksDB, the matcher read at each batch start)
//    for a while without reloads (baseline), then while the set file is rewritten and
//    reloaded every 1.5 s (each version different, so each compiles in the background).
//    Prints the longest interval between batch starts in each phase, the longest for the
//    first batch after each swap, and their ratio to the baseline's longest.
// 3. Ingest while a backtest runs: the same pipeline's messages/s without a backtest
//    (baseline) and while backtest_jobs runs a candidate over the messages just stored,
//    with the daemon's default budget (25% of one core, lowest priority).
//
// Usage: reload_bench DATA_DIR [--seconds 10]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/clock.h"
#include "config/config.h"
#include "tests/bench/corpus.h"
#include "sets/backtest.h"
#include "sets/keyword_sets.h"
#include "ingest/pipeline.h"
#include "storage/store.h"

using namespace yuqing;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// A set of `n` words from `words`, starting at `first` (so that each version differs).
void write_set(const fs::path& file, const std::vector<std::string>& words, size_t first, size_t n) {
  std::string yaml = "id: bench\ntopic: bench\nrules:\n  - id: words\n    any:\n";
  for (size_t i = 0; i < n; ++i) yaml += "      - \"" + words[(first + i) % words.size()] + "\"\n";
  const auto tmp = file.string() + ".tmp";
  std::ofstream(tmp) << yaml;
  fs::rename(tmp, file);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--seconds 10]\n", argv[0]);
    return 2;
  }
  const fs::path data = argv[1];
  double phase_seconds = 10;
  for (int i = 2; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--seconds") phase_seconds = std::stod(argv[i + 1]);
  const auto words100k = read_lines(data / "words-100k.txt");
  const auto words10k = read_lines(data / "words-10k.txt");
  if (words100k.size() < 100000 || words10k.size() < 10000) {
    std::fprintf(stderr, "%s: run scripts/bench first (it generates the word lists)\n", data.c_str());
    return 1;
  }
  const fs::path work = fs::temp_directory_path() / ("yuqing-reload-bench-" + std::to_string(::getpid()));
  fs::create_directories(work / "sets");
  metrics::registry m;
  sets::probe probe(m);
  system_clock clk;

  // 1. Start-up: compiled against cached.
  write_set(work / "sets" / "bench.yaml", words100k, 0, 100000);
  double compiled_s = 0, cached_s = 0;
  for (int round = 0; round < 2; ++round) {
    sets::keyword_sets sets({work / "sets", work / "cache", 300, false}, nullptr, probe, clk);
    const auto t0 = steady::now();
    const auto o = sets.load("startup");
    const double s = seconds_since(t0);
    if (!o.ok || sets.sets().size() != 1 || sets.sets()[0].from_cache != (round == 1)) {
      std::fprintf(stderr, "unexpected start-up outcome (round %d)\n", round);
      return 1;
    }
    (round == 0 ? compiled_s : cached_s) = s;
  }
  std::printf("start-up with a 100k-word set (keyword_sets::load, what yuqingd does first)\n");
  std::printf("  compiled (baseline, empty cache)  %8.3f s\n", compiled_s);
  std::printf("  from the Hyperscan cache          %8.3f s\n", cached_s);
  std::printf("  ratio compiled / cached: %.1f\n\n", compiled_s / cached_s);

  // 2. Stalls around swaps of a 10k-word set.
  const bench::lines_file corpus((data / "corpus.jsonl").string());
  const std::vector<std::string_view>& payloads = corpus.lines;
  fs::remove_all(work / "sets");
  fs::create_directories(work / "sets");
  write_set(work / "sets" / "bench.yaml", words10k, 0, 10000);
  // No cache: every reload compiles, the worst case.
  sets::keyword_sets sets({work / "sets", "", 300, false}, nullptr, probe, clk);
  sets.load("startup");
  if (auto st = sets.start(); !st) return 1;
  auto cfg = config::load_string("channels:\n  - {name: posts, topic: bench.posts}\n", "bench.yaml", "/");
  auto store = storage::store::open({work / "db", true, false});
  if (!cfg || !store) return 1;
  ingest::batch_builder builder(*cfg);
  ingest::batch_writer writer(**store);
  std::vector<ingest::raw_message> raw;
  std::vector<ingest::rejected_message> rejected;
  storage::batch batches[2];
  size_t at = 0, k = 0;
  int64_t offset = 0;

  // Runs the pipeline for `seconds`; returns the interval before each batch start and
  // marks the batches that were the first to use a new matcher.
  auto run = [&](double seconds, std::vector<double>& intervals, std::vector<double>& first_after_swap) {
    const auto t0 = steady::now();
    auto last = steady::now();
    const matchers::matcher* previous = sets.current().get();
    while (seconds_since(t0) < seconds) {
      auto matcher = sets.current();  // as ingest: read at each batch start
      raw.clear();
      for (int i = 0; i < 1000; ++i, at = (at + 1) % payloads.size(), ++offset)
        raw.push_back({"bench.posts", static_cast<int32_t>(offset % 4), offset / 4, 0, payloads[at]});
      storage::batch& b = batches[k++ % 2];
      b = storage::batch();
      rejected.clear();
      builder.build(raw, *matcher, 0, b, rejected);
      if (auto st = writer.wait(); !st) return false;
      writer.submit(b);
      const auto now = steady::now();
      const double gap = std::chrono::duration<double>(now - last).count();
      last = now;
      intervals.push_back(gap);
      if (matcher.get() != previous) first_after_swap.push_back(gap);
      previous = matcher.get();
    }
    return writer.wait().ok();
  };

  std::vector<double> base, base_swaps, during, swaps;
  if (!run(phase_seconds, base, base_swaps)) return 1;
  std::atomic<bool> stop{false};
  int reloads = 0;
  std::vector<double> compile_s;
  std::thread reloader([&] {
    for (size_t v = 1; !stop.load(); ++v) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      if (stop.load()) break;
      write_set(work / "sets" / "bench.yaml", words10k, v * 37, 10000);
      const auto o = sets.request("bench").get();
      if (o.ok && o.changed) {
        ++reloads;
        compile_s.push_back(o.seconds);
      }
    }
  });
  const bool ok = run(phase_seconds, during, swaps);
  stop = true;
  reloader.join();
  sets.stop();
  if (!ok) return 1;

  const double base_max = *std::max_element(base.begin(), base.end());
  std::printf("ingest around swaps of a 10k-word set (batches of 1000, synced RocksDB; %d reloads, "
              "each compiled in the background in %.2f s on average)\n",
              reloads, compile_s.empty() ? 0.0 : [&] {
                double t = 0;
                for (double s : compile_s) t += s;
                return t / static_cast<double>(compile_s.size());
              }());
  std::printf("  baseline, no reloads: %zu batches, median %.1f ms, p99 %.1f ms, longest %.1f ms\n",
              base.size(), 1000 * percentile(base, 0.5), 1000 * percentile(base, 0.99), 1000 * base_max);
  std::printf("  while reloading:      %zu batches, median %.1f ms, p99 %.1f ms, longest %.1f ms\n",
              during.size(), 1000 * percentile(during, 0.5), 1000 * percentile(during, 0.99),
              1000 * *std::max_element(during.begin(), during.end()));
  const double swap_max = swaps.empty() ? 0 : *std::max_element(swaps.begin(), swaps.end());
  std::printf("  first batch after each swap: longest %.1f ms (target <= 50 ms)\n", 1000 * swap_max);
  std::printf("  ratio longest-after-swap / baseline longest: %.2f; while-reloading longest / "
              "baseline longest: %.2f\n",
              swap_max / base_max, *std::max_element(during.begin(), during.end()) / base_max);

  // 3. Ingest while a backtest runs over what was just stored.
  std::vector<double> quiet, busy, unused;
  if (!run(phase_seconds, quiet, unused)) return 1;
  sets::backtest_jobs jobs(**store);
  sets::backtest_request req;
  req.candidate = sets.current()->sets()[0];
  req.cpu_share = 0.25;
  auto id = jobs.start(req, "bench");
  if (!id) return 1;
  if (!run(phase_seconds, busy, unused)) return 1;
  const std::string job = jobs.get(*id).value_or("");
  const auto scanned_at = job.find("\"scanned\":");
  const long scanned = scanned_at == std::string::npos ? -1 : std::stol(job.substr(scanned_at + 10));
  auto rate = [&](const std::vector<double>& v) {
    double t = 0;
    for (double x : v) t += x;
    return 1000.0 * static_cast<double>(v.size()) / t;
  };
  std::printf("ingest while a backtest runs (budget 25%% of one core, nice 19; it scanned %ld "
              "messages meanwhile)\n", scanned);
  std::printf("  baseline, no backtest  %9.0f msg/s\n", rate(quiet));
  std::printf("  during the backtest    %9.0f msg/s\n", rate(busy));
  std::printf("  ratio during / baseline: %.2f (the budget allows down to 0.75 on one core)\n",
              rate(busy) / rate(quiet));
  store->reset();
  fs::remove_all(work);
  return reloads > 0 ? 0 : 1;
}
