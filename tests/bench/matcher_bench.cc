// Matcher benchmark (issue: matchers). On the corpus of gen_corpus.py and its 1k/10k/100k
// keyword lists it measures, in one run and on one core:
//   raw Hyperscan   hs_compile_lit_multi of the same literals, block mode, every match
//                   reported (what yuqing needs for spans and rule logic): the limit
//   yuqing off      compiled_set::match with `normalize: []`
//   yuqing on       compiled_set::match with the default normalization
//   rg              `rg -F -c -f words corpus.txt` (ripgrep, its own process)
// and prints MB/s, messages/s, ratios to raw Hyperscan and to rg, matched-message counts
// (normalization off must equal rg's), compile times and database sizes; and, once, the
// normalizer alone.
//
// Usage: matcher_bench DATA_DIR [--sizes 1k,10k,100k] [--repeat N]
#include <hs/hs.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
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

void print_row(const char* name, const run_result& r, const corpus& c, double raw_s, double rg_s) {
  const double mb = static_cast<double>(c.bytes.size()) / 1e6;
  std::printf("  %-22s %8.1f MB/s %10.0f msg/s   %5.2fx raw   %6.2fx rg   matched %zu\n", name,
              mb / r.seconds, static_cast<double>(c.messages.size()) / r.seconds,
              raw_s / r.seconds, rg_s / r.seconds, r.matched);
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
  int repeat = 3;
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
  std::printf("corpus: %zu messages, %.1f MB (%.0f bytes/message); best of %d runs, one thread\n",
              c.messages.size(), static_cast<double>(c.bytes.size()) / 1e6,
              static_cast<double>(c.bytes.size()) / static_cast<double>(c.messages.size()), repeat);

  // The normalizer alone (default options, span map included): the part of "normalize on"
  // that is not Hyperscan.
  {
    const auto norm = normalizer::get(norm_default);
    normalized_text out;
    const auto r = best_of(repeat, [&] {
      run_result rr;
      const auto t = steady::now();
      for (const auto m : c.messages) {
        norm->normalize(m, out);
        rr.matched += out.text.size() != m.size();
      }
      rr.seconds = seconds_since(t);
      return rr;
    });
    std::printf("normalizer alone (default options): %.1f MB/s, %zu of %zu messages changed\n",
                static_cast<double>(c.bytes.size()) / 1e6 / r.seconds, r.matched, c.messages.size());
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
    const auto raw = best_of(repeat, [&] {
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
    });
    hs_free_scratch(scratch);
    hs_free_database(db);

    // rg
    const std::string cmd = "rg -F -c -f " + words_file + " " + dir + "/corpus.txt";
    const auto rg = best_of(repeat, [&] {
      run_result r;
      const auto t = steady::now();
      FILE* p = popen(cmd.c_str(), "r");
      char buf[64] = {0};
      if (p && fgets(buf, sizeof buf, p)) r.matched = std::stoull(buf);
      if (p) pclose(p);
      r.seconds = seconds_since(t);
      return r;
    });

    std::printf("  %-22s compile %7.3f s   database %8.1f MB\n", "raw Hyperscan", raw_compile,
                static_cast<double>(raw_db) / 1e6);
    std::vector<std::pair<const char*, run_result>> rows;
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
      const auto& set = *compiled.set;
      std::printf("  %-22s parse %7.3f s   compile %7.3f s   database %8.1f MB   max RSS +%ld MB\n",
                  normalize ? "yuqing normalize on" : "yuqing normalize off", parse_s, compile_s,
                  static_cast<double>(set.database_bytes()) / 1e6, (max_rss_kb() - rss0) / 1024);
      const auto r = best_of(repeat, [&] {
        run_result res;
        std::vector<hit> found;
        std::vector<std::string_view> fields(1);
        const auto t = steady::now();
        for (const auto m : c.messages) {
          fields[0] = m;
          found.clear();
          set.match(fields, found);
          res.matched += !found.empty();
        }
        res.seconds = seconds_since(t);
        return res;
      });
      rows.emplace_back(normalize ? "yuqing normalize on" : "yuqing normalize off", r);
    }
    print_row("raw Hyperscan", raw, c, raw.seconds, rg.seconds);
    for (const auto& [name, r] : rows) print_row(name, r, c, raw.seconds, rg.seconds);
    print_row("rg -F -f", rg, c, raw.seconds, rg.seconds);
    const bool equal = rows[0].second.matched == rg.matched;
    std::printf("  matched messages, normalization off vs rg: %zu vs %zu: %s\n",
                rows[0].second.matched, rg.matched, equal ? "equal" : "DIFFERENT");
  }
  return 0;
}
