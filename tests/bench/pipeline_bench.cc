// Pipeline capacity benchmark (issue: ingest and storage). Feeds corpus.jsonl from memory
// through the daemon's own batch_builder (decode with simdjson, match a 1k-word set with
// normalization on) and writes every batch with its offsets to RocksDB (synced, on the
// daemon's batch_writer thread, overlapping the build of the next batch, as ingest does),
// at full speed. Baseline, same run: the matcher alone on the same texts.
// Prints messages/s of both, their ratio and the peak RSS. Then the same pipeline with
// text clustering of every message (mailbox.clusters.scope: all, the most it can cost:
// the default clusters only mailbox messages and messages that hit a set), against the
// plain pipeline of the same run, with the clustering time per message.
//
// Usage: pipeline_bench DATA_DIR [--batch N] [--words 1k] [--rounds N] [--skip-clusters]
// --rounds feeds the corpus N times (default 3) through the same store, so that memtables
// fill and RocksDB's flushes and compactions run within the measured time; the later rounds
// rewrite the keys of the first, as a replay would.
// BENCH_NO_SYNC=1 writes without fsync (to see how much of the write time is the sync).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>

#include "config/clock.h"
#include "config/config.h"
#include "tests/bench/corpus.h"
#include "mailbox/mailbox.h"
#include "ingest/pipeline.h"
#include "matchers/matcher.h"
#include "storage/store.h"

using namespace yuqing;
using steady = std::chrono::steady_clock;

namespace {

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// CPU seconds (user + system) of the whole process so far, every thread included.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}


}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--batch N] [--words 1k] [--rounds N] [--skip-clusters]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int batch_size = 1000;
  size_t rounds = 3;
  bool skip_clusters = false;
  std::string words_name = "1k";
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--skip-clusters") {
      skip_clusters = true;
      continue;
    }
    if (i + 1 >= argc) break;
    const std::string flag = argv[i], value = argv[++i];
    if (flag == "--batch") batch_size = std::stoi(value);
    if (flag == "--words") words_name = value;
    if (flag == "--rounds") rounds = std::stoul(value);
  }

  // The messages, as Kafka would hand them over.
  const bench::lines_file corpus(dir + "/corpus.jsonl");
  const std::string& jsonl = corpus.text;
  const std::vector<std::string_view>& payloads = corpus.lines;

  // A 1k-word set with the default normalization.
  std::string yaml = "id: bench\ntopic: bench\nrules:\n  - id: words\n    any:\n";
  std::ifstream words(dir + "/words-" + words_name + ".txt");
  for (std::string w; std::getline(words, w);)
    if (!w.empty()) yaml += "      - \"" + w + "\"\n";
  auto parsed = matchers::parse_keyword_set(yaml, "bench.yaml");
  auto compiled = matchers::compiled_set::compile(std::move(*parsed.set));
  if (!compiled.set) {
    std::fprintf(stderr, "%s", compiled.to_text().c_str());
    return 1;
  }
  const matchers::matcher m({compiled.set});

  auto cfg = config::load_string("channels:\n  - {name: posts, topic: bench.posts}\n", "bench.yaml", "/");
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error_message().c_str());
    return 1;
  }
  const auto db = std::filesystem::temp_directory_path() / ("yuqing-pipeline-bench-" + std::to_string(::getpid()));
  const bool sync = std::getenv("BENCH_NO_SYNC") == nullptr;
  auto store = storage::store::open({db, sync, false});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error_message().c_str());
    return 1;
  }
  std::printf("%zu messages (%.1f MB of JSON) x %zu rounds, batches of %d, %s-word set with "
              "normalization, RocksDB synced per batch in %s\n",
              payloads.size(), static_cast<double>(jsonl.size()) / 1e6, rounds, batch_size,
              words_name.c_str(), db.c_str());

  // Baseline: the matcher alone on the decoded texts.
  std::vector<std::string> texts;
  {
    ingest::batch_builder b(*cfg);
    std::vector<ingest::raw_message> raw;
    for (size_t i = 0; i < payloads.size(); ++i) raw.push_back({"bench.posts", 0, int64_t(i), 0, payloads[i]});
    storage::batch out;
    std::vector<ingest::rejected_message> rejected;
    b.build(raw, matchers::matcher({}), 0, out, rejected);
    for (auto& msg : out.messages) texts.push_back(std::move(msg.text[0].second));
  }
  // In batches, as the builder matches them.
  std::vector<matchers::hit> found;
  const std::vector<std::string_view> fields(texts.begin(), texts.end());
  std::vector<size_t> begin, ends;
  size_t matcher_hits = 0;
  auto t0 = steady::now();
  for (size_t round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < fields.size(); i += batch_size) {
      const size_t n = std::min<size_t>(batch_size, fields.size() - i);
      begin.resize(n + 1);
      for (size_t k = 0; k <= n; ++k) begin[k] = k;
      found.clear();
      ends.clear();
      m.append_batch(std::span(fields).subspan(i, n), begin, found, ends);
      matcher_hits += found.size();
    }
  }
  const double matcher_s = seconds_since(t0);

  // The pipeline as ingest runs it: build batch N (decode + match + records) while the
  // writer thread stores batch N-1 with its offsets; with `cases`, the mailbox adds its
  // records to each batch and follows them once stored.
  struct run_result {
    double seconds = 0, write_s = 0, cpu_s = 0;
    double build_s = 0, match_s = 0;  // in batch_builder::build, and of that in the matcher
    size_t hits = 0, stored = 0, rejected = 0;
  };
  const long rss_before = max_rss_mb();
  auto run = [&](const config::daemon_config& c, const std::string& topic, storage::store& st,
                 mailbox::service* cases, size_t rounds) -> std::optional<run_result> {
    ingest::batch_builder builder(c);
    ingest::batch_writer writer(st);
    std::vector<ingest::raw_message> raw;
    std::vector<ingest::rejected_message> rejected;
    storage::batch batches[2];
    mailbox::mailbox_changes changes[2];
    run_result r;
    size_t k = 0;
    auto finish = [&](size_t previous) -> bool {
      double s = 0;
      if (auto w = writer.wait(&s); !w) {
        std::fprintf(stderr, "%s\n", w.error_message().c_str());
        return false;
      }
      r.write_s += s;
      if (cases && previous < 2) cases->apply(std::move(changes[previous]));
      return true;
    };
    const int64_t now_ms = yuqing::system_clock().now_ms();  // message times: deadlines lie ahead
    const auto t0 = steady::now();
    const double cpu0 = cpu_seconds();
    const size_t total = payloads.size() * rounds;
    for (size_t at = 0; at < total; at += static_cast<size_t>(batch_size), ++k) {
      raw.clear();
      const size_t end = std::min(total, at + static_cast<size_t>(batch_size));
      for (size_t i = at; i < end; ++i)
        raw.push_back({topic, static_cast<int32_t>(i % 4), static_cast<int64_t>(i / 4), now_ms,
                       payloads[i % payloads.size()]});
      storage::batch& b = batches[k % 2];
      b = storage::batch();
      rejected.clear();
      const auto b0 = steady::now();
      r.match_s += builder.build(raw, m, now_ms, b, rejected).match_seconds;
      r.build_s += seconds_since(b0);
      if (cases) changes[k % 2] = cases->changes(b);
      r.hits += b.hits.size();
      r.stored += b.messages.size();
      r.rejected += rejected.size();
      if (!finish(k == 0 ? 2 : (k - 1) % 2)) return std::nullopt;
      writer.submit(b);
      if (k % 20 == 0) std::fprintf(stderr, "\r%zu/%zu messages", end, total);
    }
    if (!finish(k == 0 ? 2 : (k - 1) % 2)) return std::nullopt;
    r.seconds = seconds_since(t0);
    r.cpu_s = cpu_seconds() - cpu0;
    std::fprintf(stderr, "\r");
    return r;
  };
  const auto plain = run(*cfg, "bench.posts", **store, nullptr, rounds);
  if (!plain) return 1;
  const double pipeline_s = plain->seconds;
  store->reset();
  std::filesystem::remove_all(db);
  const double n = static_cast<double>(payloads.size() * rounds);  // messages per plain run
  std::printf("  matcher alone      %9.0f msg/s   %zu hits\n", n / matcher_s, matcher_hits);
  std::printf("  pipeline           %9.0f msg/s   %zu hits, %zu messages stored, %zu rejected; "
              "RocksDB writes (overlapped) took %.0f%% of the wall time\n",
              n / pipeline_s, plain->hits, plain->stored, plain->rejected, 100 * plain->write_s / pipeline_s);
  std::printf("                     CPU %.2f s in %.2f s (%.2f cores busy), %.1f us of CPU per message\n",
              plain->cpu_s, pipeline_s, plain->cpu_s / pipeline_s, 1e6 * plain->cpu_s / n);
  std::printf("                     building batches (decode, match, records) took %.2f s, of which "
              "matching %.2f s\n", plain->build_s, plain->match_s);
  std::printf("  ratio pipeline / matcher alone: %.2f   (targets: >= 150000 msg/s, >= 0.5)\n",
              matcher_s / pipeline_s);
  std::fflush(stdout);
  const bool same_hits = plain->hits == matcher_hits;
  if (skip_clusters) return same_hits ? 0 : 1;

  // The same pipeline, every message also clustered by text (cluster members are written
  // with the batch, as ingest does), one round (a replay would cluster with its original).
  auto mb_cfg = config::load_string("channels:\n  - {name: posts, topic: bench.posts}\n"
                                    "mailbox: {clusters: {scope: all, max_tracked: 200000}}\n",
                                    "bench.yaml", "/");
  auto mb_store = storage::store::open({db, sync, false});
  if (!mb_cfg || !mb_store) return 1;
  metrics::registry registry;
  mailbox::probe probe(registry);
  const yuqing::system_clock clk;
  mailbox::service cases(*mb_cfg, **mb_store, mailbox::calendar(), nullptr, probe, clk);
  if (auto st = cases.start({}); !st) {
    std::fprintf(stderr, "%s\n", st.error_message().c_str());
    return 1;
  }
  const auto with_cases = run(*mb_cfg, "bench.posts", **mb_store, &cases, 1);
  if (!with_cases) return 1;
  const std::string exposition = registry.expose();
  auto sample = [&](const std::string& name) {
    const auto at = exposition.find("\n" + name + " ");
    return at == std::string::npos ? 0.0 : std::stod(exposition.substr(at + name.size() + 2));
  };
  const double clustered = sample("yuqing_mailbox_clustered_messages_total");
  const double cluster_s = sample("yuqing_mailbox_clustering_seconds_total");
  cases.stop();
  mb_store->reset();

  const double n1 = static_cast<double>(payloads.size());
  std::printf("  pipeline + text clustering of every message (one round)\n"
              "                     %9.0f msg/s   %.0f messages clustered, %.1f us each (%.0f%% of the wall time); "
              "ratio to the pipeline alone: %.2f\n",
              n1 / with_cases->seconds, clustered, clustered > 0 ? 1e6 * cluster_s / clustered : 0.0,
              100 * cluster_s / with_cases->seconds, (n1 / with_cases->seconds) / (n / pipeline_s));
  std::printf("  peak RSS %ld MB (%ld MB before the pipelines ran)\n", max_rss_mb(), rss_before);
  std::filesystem::remove_all(db);
  return same_hits ? 0 : 1;
}
