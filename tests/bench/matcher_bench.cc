// Matcher benchmark (issue: matchers). On the corpus of gen_corpus.py and its 1k/10k/100k
// keyword lists it measures, in one run and on one core:
//   raw Hyperscan   hs_compile_lit_multi of the same literals, block mode, one scan per
//                   message, every match reported (what yuqing needs for spans and rule
//                   logic): the limit the issue names, and the base of the "x raw" column
//   raw, blocks     the same with messages joined into 32 KB blocks, as yuqing scans them
//   yuqing off      compiled_set::match_batch with `normalize: []`, batches of 1000
//   yuqing on       the same with the default normalization
//   rg              `rg -F -c -f words corpus.txt` (ripgrep, its own process)
// and prints MB/s and messages/s (best run of each), ratios to raw Hyperscan and to rg
// (median over the rounds of the ratio within a round: all run one after the other in
// each round), matched-message counts (normalization off must equal rg's), compile times and
// database sizes; and, once, the normalizer alone (its vector path and its scalar loop).
//
// Usage: matcher_bench DATA_DIR [--sizes 1k,10k,100k] [--repeat N]   (N rounds, default 5)
#include <hs/hs.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "matchers/matcher.h"

using namespace yuqing::matchers;
using steady = std::chrono::steady_clock;

namespace {

struct corpus {
  std::string bytes;
  std::vector<std::string_view> messages;
};

corpus read_corpus(const std::string& file) {
  corpus c;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  c.bytes = s.str();
  size_t at = 0;
  while (at < c.bytes.size()) {
    size_t nl = c.bytes.find('\n', at);
    if (nl == std::string::npos) nl = c.bytes.size();
    c.messages.emplace_back(c.bytes.data() + at, nl - at);
    at = nl + 1;
  }
  return c;
}

std::vector<std::string> read_lines(const std::string& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

long max_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

struct run_result {
  double seconds = 0;
  size_t matched = 0;  // messages with at least one match / hit
};

// Best of `repeat` runs (least disturbed by the machine).
template <class F>
run_result best_of(int repeat, F&& f) {
  run_result best;
  for (int i = 0; i < repeat; ++i) {
    const auto r = f();
    if (i == 0 || r.seconds < best.seconds) best = r;
  }
  return best;
}

std::string set_yaml(const std::vector<std::string>& words, bool normalize) {
  std::string y = "id: bench\n";
  if (!normalize) y += "normalize: []\n";
  y += "rules:\n  - id: words\n    any:\n";
  for (const auto& w : words) y += "      - \"" + w + "\"\n";
  return y;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--sizes 1k,10k,100k] [--repeat N]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::string> sizes = {"1k", "10k", "100k"};
  int repeat = 5;  // rounds
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
    if (a == "--sizes") {
      sizes.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string s; std::getline(ss, s, ',');) sizes.push_back(s);
    }
  }
  const auto c = read_corpus(dir + "/corpus.txt");
  std::printf("corpus: %zu messages, %.1f MB (%.0f bytes/message); %d rounds, one thread\n",
              c.messages.size(), static_cast<double>(c.bytes.size()) / 1e6,
              static_cast<double>(c.bytes.size()) / static_cast<double>(c.messages.size()), repeat);

  // The normalizer alone (default options, span map included): the part of "normalize on"
  // that is not Hyperscan. Both paths: the vector one is what runs where the CPU has
  // AVX-512 VBMI2, the scalar one elsewhere.
  {
    const auto shared = normalizer::get(norm_default);  // the one the sets below use
    const normalizer& vector = *shared;
    const normalizer scalar(norm_default, false);
    normalized_text out;
    auto rate = [&](const normalizer& norm) {
      const auto r = best_of(repeat, [&] {
        run_result rr;
        const auto t = steady::now();
        for (const auto m : c.messages) {
          norm.normalize(m, out);
          rr.matched += out.text.size() != m.size();
        }
        rr.seconds = seconds_since(t);
        return rr;
      });
      return std::make_pair(static_cast<double>(c.bytes.size()) / 1e6 / r.seconds, r.matched);
    };
    const auto [scalar_rate, changed] = rate(scalar);
    if (vector.vectorized()) {
      const double vector_rate = rate(vector).first;
      std::printf("normalizer alone (default options): %.1f MB/s (scalar loop %.1f MB/s, %.2fx), "
                  "%zu of %zu messages changed\n",
                  vector_rate, scalar_rate, vector_rate / scalar_rate, changed, c.messages.size());
    } else {
      std::printf("normalizer alone (default options): %.1f MB/s (scalar loop: this CPU has no "
                  "AVX-512 VBMI2), %zu of %zu messages changed\n",
                  scalar_rate, changed, c.messages.size());
    }
  }

  for (const auto& size : sizes) {
    const auto words_file = dir + "/words-" + size + ".txt";
    const auto words = read_lines(words_file);
    std::printf("\n%s words (%s)\n", size.c_str(), words_file.c_str());

    // raw Hyperscan
    auto t0 = steady::now();
    std::vector<const char*> exprs;
    std::vector<size_t> lens;
    std::vector<unsigned> flags(words.size(), 0), ids;
    for (unsigned i = 0; i < words.size(); ++i) {
      exprs.push_back(words[i].data());
      lens.push_back(words[i].size());
      ids.push_back(i);
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(words.size()), HS_MODE_BLOCK, nullptr, &db,
                             &err) != HS_SUCCESS) {
      std::fprintf(stderr, "hyperscan: %s\n", err->message);
      return 1;
    }
    const double raw_compile = seconds_since(t0);
    hs_scratch_t* scratch = nullptr;
    hs_alloc_scratch(db, &scratch);
    size_t raw_db = 0;
    hs_database_size(db, &raw_db);
    std::printf("  %-22s compile %7.3f s   database %8.1f MB\n", "raw Hyperscan", raw_compile,
                static_cast<double>(raw_db) / 1e6);

    // yuqing's sets, normalization off and on
    std::shared_ptr<const compiled_set> sets[2];
    for (bool normalize : {false, true}) {
      const long rss0 = max_rss_kb();
      t0 = steady::now();
      auto parsed = parse_keyword_set(set_yaml(words, normalize), "bench-" + size + ".yaml");
      const double parse_s = seconds_since(t0);
      if (!parsed.set) {
        std::fprintf(stderr, "%s\n", parsed.to_text().c_str());
        return 1;
      }
      t0 = steady::now();
      auto compiled = compiled_set::compile(std::move(*parsed.set));
      const double compile_s = seconds_since(t0);
      if (!compiled.set) {
        std::fprintf(stderr, "%s\n", compiled.to_text().c_str());
        return 1;
      }
      sets[normalize] = compiled.set;
      std::printf("  %-22s parse %7.3f s   compile %7.3f s   database %8.1f MB   max RSS +%ld MB\n",
                  normalize ? "yuqing normalize on" : "yuqing normalize off", parse_s, compile_s,
                  static_cast<double>(compiled.set->database_bytes()) / 1e6, (max_rss_kb() - rss0) / 1024);
    }

    auto run_raw = [&] {
      run_result r;
      const auto t = steady::now();
      for (const auto m : c.messages) {
        size_t n = 0;
        hs_scan(db, m.data(), static_cast<unsigned>(m.size()), 0, scratch,
                [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
                  ++*static_cast<size_t*>(ctx);
                  return 0;
                },
                &n);
        r.matched += n > 0;
      }
      r.seconds = seconds_since(t);
      return r;
    };
    // The same literals over messages joined into blocks of 32 KB (0xFF between messages),
    // as yuqing scans them: the per-message baseline above pays Hyperscan's cost per call
    // (the start and end of each block) once per message. The copy into the block is timed.
    auto run_raw_blocks = [&] {
      run_result r;
      std::string block;
      std::vector<size_t> starts;  // of the messages in the block
      std::vector<unsigned long long> ends;
      const auto t = steady::now();
      for (size_t i = 0; i < c.messages.size();) {
        block.clear();
        starts.clear();
        ends.clear();
        for (; i < c.messages.size() && block.size() < 32 * 1024; ++i) {
          starts.push_back(block.size());
          block.append(c.messages[i]);
          block.push_back('\xFF');
        }
        hs_scan(db, block.data(), static_cast<unsigned>(block.size()), 0, scratch,
                [](unsigned, unsigned long long, unsigned long long to, unsigned, void* ctx) {
                  static_cast<std::vector<unsigned long long>*>(ctx)->push_back(to);
                  return 0;
                },
                &ends);
        std::sort(ends.begin(), ends.end());
        size_t last = SIZE_MAX;  // message of the previous match
        for (const auto e : ends) {
          const size_t m = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), e - 1) - starts.begin());
          r.matched += m != last;
          last = m;
        }
      }
      r.seconds = seconds_since(t);
      return r;
    };
    // yuqing as the daemon calls it: match_batch() over batches of 1000 messages.
    auto run_set = [&](const compiled_set& set) {
      run_result r;
      std::vector<hit> found;
      std::vector<size_t> begin, ends;
      const auto t = steady::now();
      for (size_t i = 0; i < c.messages.size(); i += 1000) {
        const size_t n = std::min<size_t>(1000, c.messages.size() - i);
        begin.resize(n + 1);
        for (size_t k = 0; k <= n; ++k) begin[k] = k;
        found.clear();
        ends.clear();
        set.match_batch(std::span(c.messages).subspan(i, n), begin, found, ends);
        for (size_t k = 0; k < n; ++k) r.matched += ends[k] > (k == 0 ? 0 : ends[k - 1]);
      }
      r.seconds = seconds_since(t);
      return r;
    };
    const std::string cmd = "rg -F -c -f " + words_file + " " + dir + "/corpus.txt";
    auto run_rg = [&] {
      run_result r;
      const auto t = steady::now();
      FILE* p = popen(cmd.c_str(), "r");
      char buf[64] = {0};
      if (p && fgets(buf, sizeof buf, p)) r.matched = std::stoull(buf);
      if (p) pclose(p);
      r.seconds = seconds_since(t);
      return r;
    };

    // Round by round, the four one after the other: a ratio compares runs of the same
    // round, which share the machine's state of the moment (its speed drifts by tens of
    // percent here); the median ratio over the rounds is reported, and the best run of each.
    enum { raw_i, blocks_i, off_i, on_i, rg_i, contenders };
    const char* names[contenders] = {"raw Hyperscan", "raw Hyperscan, blocks", "yuqing normalize off",
                                     "yuqing normalize on", "rg -F -f"};
    std::vector<run_result> runs[contenders];
    for (int round = 0; round < repeat; ++round) {
      runs[raw_i].push_back(run_raw());
      runs[blocks_i].push_back(run_raw_blocks());
      runs[off_i].push_back(run_set(*sets[0]));
      runs[on_i].push_back(run_set(*sets[1]));
      runs[rg_i].push_back(run_rg());
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
    auto median_ratio = [&](int base, int i) {
      std::vector<double> r;
      for (int k = 0; k < repeat; ++k) r.push_back(runs[base][k].seconds / runs[i][k].seconds);
      std::sort(r.begin(), r.end());
      return r.size() % 2 ? r[r.size() / 2] : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2;
    };
    const double mb = static_cast<double>(c.bytes.size()) / 1e6;
    for (int i = 0; i < contenders; ++i) {
      run_result best = runs[i][0];
      for (const auto& r : runs[i])
        if (r.seconds < best.seconds) best = r;
      std::printf("  %-22s %8.1f MB/s %10.0f msg/s   %5.2fx raw   %6.2fx rg   matched %zu\n", names[i],
                  mb / best.seconds, static_cast<double>(c.messages.size()) / best.seconds,
                  median_ratio(raw_i, i), median_ratio(rg_i, i), best.matched);
    }
    std::printf("  against raw Hyperscan in blocks: normalization off %.2fx, on %.2fx\n",
                median_ratio(blocks_i, off_i), median_ratio(blocks_i, on_i));
    const bool equal = runs[off_i][0].matched == runs[rg_i][0].matched;
    std::printf("  matched messages, normalization off vs rg: %zu vs %zu: %s\n",
                runs[off_i][0].matched, runs[rg_i][0].matched, equal ? "equal" : "DIFFERENT");
  }
  return 0;
}
