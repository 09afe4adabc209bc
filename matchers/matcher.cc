#include "matchers/matcher.h"

#include <hs/hs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <cstring>
#include <fstream>
#include <functional>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace yuqing::matchers {

namespace {

constexpr int part_none = -1;
constexpr int part_allow = -2;
constexpr size_t max_parts = 62;

// Where a literal is used: a rule and the part of it (0: any, 1..: all groups).
struct pattern_ref {
  uint32_t rule;
  int part;
};

struct occurrence {
  uint32_t rule;
  uint32_t field;
  uint32_t nb, ne;  // normalized byte span
  int part;
};

struct raw_match {
  uint32_t id;
  uint32_t from, to;
};

int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
             void* ctx) {
  static_cast<std::vector<raw_match>*>(ctx)->push_back(
      {id, static_cast<uint32_t>(from), static_cast<uint32_t>(to)});
  return 0;
}

// A literal whose end is 8 or more repeats of one byte can slow scanning a lot
// (Hyperscan issue 253).
bool ends_in_long_run(const std::string& s) {
  if (s.size() < 8) return false;
  const char last = s.back();
  size_t run = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == last; ++it) ++run;
  return run >= 8;
}

bool is_ascii_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Two 64-bit hashes (FNV-1a and a multiply-xorshift) over length-prefixed parts: 128 bits,
// so that a cached database is never taken for another one.
class cache_key {
 public:
  void add(std::string_view part) {
    mix(std::to_string(part.size()));
    mix(":");
    mix(part);
  }
  std::string hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a_),
                  static_cast<unsigned long long>(b_));
    return buf;
  }

 private:
  void mix(std::string_view s) {
    for (unsigned char c : s) {
      a_ = (a_ ^ c) * 1099511628211ull;
      b_ = (b_ + c) * 0x9E3779B97F4A7C15ull;
      b_ ^= b_ >> 29;
    }
  }
  uint64_t a_ = 1469598103934665603ull;
  uint64_t b_ = 0x2545F4914F6CDD1Dull;
};

constexpr std::string_view cache_magic = "yuqing-hsdb-1\n";

std::filesystem::path cache_file(const std::filesystem::path& dir, const cache_key& key) {
  return dir / (key.hex() + ".hsdb");
}

// The two databases (either may be null) as bytes: for each, its length (8 bytes) and
// Hyperscan's serialization.
result<std::string> encode_databases(const hs_database_t* literals, const hs_database_t* regexes) {
  std::string data;
  for (const auto* db : {literals, regexes}) {
    char* bytes = nullptr;
    size_t n = 0;
    if (db && hs_serialize_database(db, &bytes, &n) != HS_SUCCESS)
      return error{"Hyperscan cannot serialize the database"};
    const uint64_t n64 = n;
    data.append(reinterpret_cast<const char*>(&n64), 8);
    if (bytes) data.append(bytes, n);
    std::free(bytes);
  }
  return data;
}

// The reverse; false (and nothing allocated) when `v` is not exactly the wanted databases
// or this Hyperscan refuses them (another platform).
bool decode_databases(std::string_view v, bool want_literals, bool want_regexes,
                      hs_database_t*& literals, hs_database_t*& regexes) {
  hs_database_t* dbs[2] = {nullptr, nullptr};
  const bool want[2] = {want_literals, want_regexes};
  for (int i = 0; i < 2; ++i) {
    uint64_t n = 0;
    if (v.size() < 8) break;
    std::memcpy(&n, v.data(), 8);
    v.remove_prefix(8);
    if (n > v.size() || (n > 0) != want[i]) break;
    if (n > 0 && hs_deserialize_database(v.data(), n, &dbs[i]) != HS_SUCCESS) break;
    v.remove_prefix(n);
    if (i == 1 && v.empty()) {
      literals = dbs[0];
      regexes = dbs[1];
      return true;
    }
  }
  for (auto* db : dbs)
    if (db) hs_free_database(db);
  return false;
}

// Reads the databases cached under `key`. False (and nothing allocated) when there is no
// usable entry: missing, truncated, or refused by this Hyperscan (another platform).
bool read_cache(const std::filesystem::path& dir, const cache_key& key, hs_database_t*& literals,
                hs_database_t*& regexes, bool want_literals, bool want_regexes) {
  const auto path = cache_file(dir, key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string_view v(data);
  if (!v.starts_with(cache_magic)) return false;
  v.remove_prefix(cache_magic.size());
  if (!v.starts_with(key.hex())) return false;
  v.remove_prefix(32);
  if (!decode_databases(v, want_literals, want_regexes, literals, regexes)) return false;
  std::error_code ec;
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now(), ec);
  return true;
}

status write_cache(const std::filesystem::path& dir, const cache_key& key,
                   const hs_database_t* literals, const hs_database_t* regexes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto encoded = encode_databases(literals, regexes);
  if (!encoded) return error{encoded.error_message()};
  const std::string data = std::string(cache_magic) + key.hex() + *encoded;
  const auto path = cache_file(dir, key);
  const auto tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out.flush()) {
      std::filesystem::remove(tmp, ec);
      return error{tmp + ": cannot write"};
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return error{path.string() + ": " + ec.message()};
  return ok_status();
}

// The Hyperscan part of compile(): the literal and the regex databases, or why not.
struct hs_inputs {
  std::vector<std::string_view> literals;
  std::vector<const char*> regexes;
  std::vector<uint32_t> regex_ids;
  unsigned regex_flags = 0;
};

struct hs_build {
  enum { built, refused, time_limit, no_process } outcome = built;
  hs_database_t* literals = nullptr;  // owned by the caller
  hs_database_t* regexes = nullptr;
  bool in_regexes = false;  // the expression below is a regex (else a literal)
  int expression = -1;      // the one Hyperscan refused or that was compiling; -1: unknown
  std::string message;
};

// Compiles on the calling thread; `starting(i)` is told before regex i is compiled alone
// (the child's progress: a time limit then names the regex), -1 before the literals and
// -2 before the regexes together.
hs_build build_databases(const hs_inputs& in, const std::function<void(int)>& starting) {
  hs_build b;
  hs_compile_error_t* err = nullptr;
  auto refused = [&](bool in_regexes, int expression) {
    b.outcome = hs_build::refused;
    b.in_regexes = in_regexes;
    b.expression = expression;
    b.message = std::string("Hyperscan: ") + err->message;
    hs_free_compile_error(err);
    for (auto** db : {&b.literals, &b.regexes}) {
      if (*db) hs_free_database(*db);
      *db = nullptr;
    }
    return b;
  };
  if (starting) starting(-1);
  if (!in.literals.empty()) {
    std::vector<const char*> exprs;
    std::vector<size_t> lens;
    std::vector<unsigned> flags(in.literals.size(), 0), ids;
    for (uint32_t i = 0; i < in.literals.size(); ++i) {
      exprs.push_back(in.literals[i].data());
      lens.push_back(in.literals[i].size());
      ids.push_back(i);
    }
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr,
                             &b.literals, &err) != HS_SUCCESS)
      return refused(false, err->expression);
  }
  if (in.regexes.empty()) return b;
  if (starting && in.regexes.size() > 1) {
    // Alone first, so that a regex that takes too long is the one named.
    for (size_t i = 0; i < in.regexes.size(); ++i) {
      starting(static_cast<int>(i));
      hs_database_t* one = nullptr;
      if (hs_compile(in.regexes[i], in.regex_flags, HS_MODE_BLOCK, nullptr, &one, &err) !=
          HS_SUCCESS)
        return refused(true, static_cast<int>(i));
      hs_free_database(one);
    }
  }
  if (starting) starting(-2);
  std::vector<unsigned> flags(in.regexes.size(), in.regex_flags);
  if (hs_compile_multi(in.regexes.data(), flags.data(), in.regex_ids.data(),
                       static_cast<unsigned>(in.regexes.size()), HS_MODE_BLOCK, nullptr,
                       &b.regexes, &err) != HS_SUCCESS)
    return refused(true, err->expression);
  return b;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void put_int(std::string& out, int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

int32_t get_int(std::string_view& v) {
  int32_t x = -1;
  if (v.size() < 4) return x;
  std::memcpy(&x, v.data(), 4);
  v.remove_prefix(4);
  return x;
}

// The forked child of build_in_child(): builds, reports over `fd` and exits.
[[noreturn]] void build_and_report(const hs_inputs& in, int fd) {
  auto child = build_databases(in, [&](int step) {
    std::string m = "P";
    put_int(m, step);
    write_all(fd, m);
  });
  std::string out;
  if (child.outcome == hs_build::built) {
    auto encoded = encode_databases(child.literals, child.regexes);
    out = encoded ? "D" + *encoded : "X";
  } else {
    out = child.in_regexes ? "Er" : "El";
    put_int(out, child.expression);
    out += child.message;
  }
  ::_exit(write_all(fd, out) ? 0 : 1);
}

// Reads `fd` until its end (true) or the deadline (false).
bool read_until(int fd, std::chrono::steady_clock::time_point deadline, std::string& data) {
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;  // EINTR, or the time is up
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) data.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) return true;
  }
}

// What the child reported: its progress lines first, then the outcome (none when it was
// stopped at the limit, `eof` false).
hs_build child_outcome(std::string_view v, bool eof, int wstatus, const hs_inputs& in,
                       int limit_ms) {
  hs_build b;
  int step = -1;
  while (v.starts_with("P") && v.size() >= 5) {
    v.remove_prefix(1);
    step = get_int(v);
  }
  if (!eof) {
    b.outcome = hs_build::time_limit;
    b.in_regexes = step != -1;
    b.expression = step >= 0 ? step : (step == -2 && in.regexes.size() == 1 ? 0 : -1);
    b.message = "the compile took longer than the time limit of " + std::to_string(limit_ms) +
                " ms (keyword_sets.compile_time_limit_ms) and was stopped";
  } else if (v.starts_with("D") &&
             decode_databases(v.substr(1), !in.literals.empty(), !in.regexes.empty(),
                              b.literals, b.regexes)) {
    b.outcome = hs_build::built;
  } else if (v.starts_with("E") && v.size() >= 6) {
    b.outcome = hs_build::refused;
    b.in_regexes = v[1] == 'r';
    v.remove_prefix(2);
    b.expression = get_int(v);
    b.message = std::string(v);
  } else {
    b.outcome = hs_build::no_process;
    b.message = "the compile process failed (" +
                (WIFSIGNALED(wstatus) ? "signal " + std::to_string(WTERMSIG(wstatus))
                                      : "exit code " + std::to_string(WEXITSTATUS(wstatus))) + ")";
  }
  return b;
}

// build_databases() in a forked child, killed after `limit_ms`. The child reports over a
// pipe: 'P' and an int before each step (its progress), then 'D' and the serialized
// databases, or 'E', whether a regex, the expression and Hyperscan's message.
hs_build build_in_child(const hs_inputs& in, int limit_ms) {
  hs_build b;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    b.outcome = hs_build::no_process;
    b.message = std::string("cannot compile: pipe: ") + std::strerror(errno);
    return b;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    build_and_report(in, fds[1]);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    b.outcome = hs_build::no_process;
    b.message = std::string("cannot compile: fork: ") + std::strerror(errno);
    return b;
  }
  std::string data;
  const bool eof = read_until(
      fds[0], std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms), data);
  ::close(fds[0]);
  if (!eof) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return child_outcome(data, eof, wstatus, in, limit_ms);
}

}  // namespace

struct compiled_set::pattern {
  std::string text;  // normalized
  bool check_left = false, check_right = false;
  bool allow = false;  // an allow phrase (also) uses it
  std::vector<pattern_ref> refs;
  const term* first = nullptr;  // where it was first written, for errors
  uint32_t first_rule = 0;
};

struct compiled_set::impl {
  hs_database_t* literals = nullptr;
  hs_database_t* regexes = nullptr;
  hs_scratch_t* prototype = nullptr;
  std::vector<uint64_t> required;  // per rule: mask of the parts it needs
  bool identity = false;           // no normalization and no regex: scan the original
  // Scratch pool: one slot taken with one atomic exchange (the common, single-thread
  // case), the rest under the mutex.
  mutable std::atomic<hs_scratch_t*> cached{nullptr};
  mutable std::mutex mu;
  mutable std::vector<hs_scratch_t*> free_scratch;

  ~impl() {
    if (auto* s = cached.load()) hs_free_scratch(s);
    for (auto* s : free_scratch) hs_free_scratch(s);
    if (prototype) hs_free_scratch(prototype);
    if (literals) hs_free_database(literals);
    if (regexes) hs_free_database(regexes);
  }

  hs_scratch_t* acquire() const {
    if (auto* s = cached.exchange(nullptr)) return s;
    {
      std::lock_guard lock(mu);
      if (!free_scratch.empty()) {
        auto* s = free_scratch.back();
        free_scratch.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    if (hs_clone_scratch(prototype, &s) != HS_SUCCESS) return nullptr;
    return s;
  }
  void release(hs_scratch_t* s) const {
    hs_scratch_t* expected = nullptr;
    if (cached.compare_exchange_strong(expected, s)) return;
    std::lock_guard lock(mu);
    free_scratch.push_back(s);
  }
};

compiled_set::~compiled_set() = default;

std::string compile_result::to_text() const {
  std::string s;
  for (const auto& d : diagnostics) s += d.to_text() + "\n";
  return s;
}

compile_result compiled_set::load(const std::filesystem::path& file,
                                   const compile_options& options) {
  auto parsed = load_keyword_set_file(file, options.section_checks);
  if (!parsed.ok()) {
    compile_result r;
    r.diagnostics = std::move(parsed.diagnostics);
    return r;
  }
  if (options.reuse) {
    for (const auto& old : options.reuse->sets()) {
      const auto& d = old->definition();
      if (d.id == parsed.set->id && d.version == parsed.set->version && d.file == parsed.set->file) {
        compile_result r;
        r.set = old;
        r.reused = true;
        r.diagnostics = std::move(parsed.diagnostics);  // its warnings
        return r;
      }
    }
  }
  auto r = compile(std::move(*parsed.set), options);
  r.diagnostics.insert(r.diagnostics.begin(), parsed.diagnostics.begin(),
                       parsed.diagnostics.end());
  return r;
}

// The steps of compile(): a nested struct, so that it may fill the set's private parts.
struct compiled_set::builder {
  static constexpr unsigned regex_flags =
      HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST | HS_FLAG_DOTALL;
  compiled_set& cs;
  const keyword_set& set;
  const compile_options& options;
  compile_result& res;
  std::map<std::string, uint32_t> index;  // literals, by their normalized form
  std::vector<uint32_t> regex_rules;
  std::vector<const char*> regex_exprs;

  void fail(const source_pos& pos, const std::string& rule, const std::string& msg) {
    res.diagnostics.push_back({set.file, pos, rule, msg, false});
  }
  bool has_errors() const {
    return std::any_of(res.diagnostics.begin(), res.diagnostics.end(),
                       [](const diagnostic& d) { return !d.warning; });
  }

  // The errors of an earlier compile of the same content, if remembered.
  bool remembered() {
    if (!options.failures || set.version.empty()) return false;
    auto errors = options.failures->find(set.version);
    if (!errors) return false;
    for (auto& d : *errors) {
      d.file = set.file;
      d.message += " (remembered: this content is not compiled again)";
    }
    res.diagnostics.insert(res.diagnostics.end(), errors->begin(), errors->end());
    res.remembered = true;
    return true;
  }

  bool make_normalizer() {
    try {
      cs.norm_ = normalizer::get(set.normalize);
      return true;
    } catch (const std::exception& e) {
      fail({}, "", std::string("cannot build the normalizer: ") + e.what());
      return false;
    }
  }

  // One literal of a rule's part, deduplicated by its normalized form.
  void add(const term& t, uint32_t rule, const std::string& rule_id, int part) {
    std::string n = cs.norm_->normalize(t.text);
    if (n.empty()) {
      fail(t.pos, rule_id, "keyword " + quote_token(t.text) + " is empty after normalization");
      return;
    }
    auto [it, fresh] = index.emplace(n, static_cast<uint32_t>(cs.patterns_.size()));
    if (fresh) {
      pattern p;
      p.check_left = set.whole_words && is_ascii_alnum(n.front());
      p.check_right = set.whole_words && is_ascii_alnum(n.back());
      p.first = &t;
      p.first_rule = rule;
      if (ends_in_long_run(n)) {
        res.diagnostics.push_back({set.file, t.pos, rule_id,
                                   "keyword " + quote_token(t.text) +
                                       " ends in 8 or more repeated bytes, which can slow "
                                       "scanning (Hyperscan issue 253)",
                                   true});
      }
      p.text = std::move(n);
      cs.patterns_.push_back(std::move(p));
    }
    cs.patterns_[it->second].refs.push_back({rule, part});
    if (part == part_allow) cs.patterns_[it->second].allow = true;
  }

  // Every literal of the allow list and the rules, and each rule's mask of required parts.
  void add_literals() {
    for (const auto& t : set.allow) add(t, 0, "", part_allow);
    for (uint32_t r = 0; r < set.rules.size(); ++r) {
      const auto& rule = set.rules[r];
      if (rule.all.size() + 2 > max_parts) {
        fail(rule.pos, rule.id, "too many all groups (at most " + std::to_string(max_parts - 2) + ")");
        continue;
      }
      uint64_t required = 0;
      if (!rule.any.empty()) required |= 1;
      for (const auto& t : rule.any) add(t, r, rule.id, 0);
      for (size_t g = 0; g < rule.all.size(); ++g) {
        required |= uint64_t{1} << (g + 1);
        for (const auto& t : rule.all[g]) add(t, r, rule.id, static_cast<int>(g + 1));
      }
      for (const auto& t : rule.none) add(t, r, rule.id, part_none);
      if (rule.regex) required |= uint64_t{1} << (rule.all.size() + 1);
      cs.impl_->required.push_back(required);
    }
  }

  // The rules' regexes, each checked by Hyperscan on its own.
  void add_regexes() {
    hs_compile_error_t* err = nullptr;
    for (uint32_t r = 0; r < set.rules.size(); ++r) {
      const auto& rule = set.rules[r];
      if (!rule.regex) continue;
      hs_expr_info_t* info = nullptr;
      if (hs_expression_info(rule.regex->text.c_str(), regex_flags, &info, &err) != HS_SUCCESS) {
        fail(rule.regex->pos, rule.id, std::string("regex: ") + err->message);
        hs_free_compile_error(err);
        continue;
      }
      if (info->min_width == 0) fail(rule.regex->pos, rule.id, "regex can match empty text");
      std::free(info);
      regex_rules.push_back(r);
      regex_exprs.push_back(rule.regex->text.c_str());
    }
  }

  // The databases depend only on the literals, the regexes and Hyperscan's version: that
  // is the cache key.
  cache_key key() const {
    cache_key k;
    k.add("yuqing-hs-v1");
    k.add(hs_version());
    for (const auto& p : cs.patterns_) k.add(p.text);
    k.add("\x01regexes");
    for (size_t i = 0; i < regex_exprs.size(); ++i) {
      k.add(regex_exprs[i]);
      k.add(std::to_string(regex_rules[i]));
    }
    return k;
  }

  // A failed Hyperscan build, at the rule of the literal or regex that failed or that was
  // compiling at the limit.
  void fail_build(const hs_build& built) {
    const size_t e = static_cast<size_t>(built.expression);  // -1: beyond every index
    source_pos pos;
    std::string rule_id;
    if (built.in_regexes && e < regex_rules.size()) {
      const auto& r = set.rules[regex_rules[e]];
      pos = r.regex->pos;
      rule_id = r.id;
    } else if (!built.in_regexes && e < cs.patterns_.size()) {
      const auto& p = cs.patterns_[e];
      pos = p.first->pos;
      if (p.first_rule < set.rules.size() && !p.allow) rule_id = set.rules[p.first_rule].id;
    }
    fail(pos, rule_id, built.message);
    if (built.outcome != hs_build::no_process && options.failures && !set.version.empty())
      options.failures->remember(set.version, res.diagnostics);
  }

  // The databases, from the cache or built (and cached), and the scratch prototype.
  bool build() {
    const cache_key k = key();
    auto& impl = *cs.impl_;
    if (!options.cache_dir.empty() &&
        read_cache(options.cache_dir, k, impl.literals, impl.regexes, !cs.patterns_.empty(),
                   !regex_exprs.empty())) {
      res.from_cache = true;
    }
    if (!res.from_cache) {
      hs_inputs in{{}, regex_exprs, regex_rules, regex_flags};
      for (const auto& p : cs.patterns_) in.literals.push_back(p.text);
      auto built = options.time_limit_ms > 0 ? build_in_child(in, options.time_limit_ms)
                                             : build_databases(in, {});
      impl.literals = built.literals;
      impl.regexes = built.regexes;
      if (built.outcome != hs_build::built) {
        fail_build(built);
        return false;
      }
      if (!options.cache_dir.empty()) {
        if (auto st = write_cache(options.cache_dir, k, impl.literals, impl.regexes); !st)
          res.diagnostics.push_back({set.file, {}, "", "compiled database not cached: " + st.error_message(), true});
      }
    }
    for (auto* db : {impl.literals, impl.regexes}) {
      if (db && hs_alloc_scratch(db, &impl.prototype) != HS_SUCCESS) {
        fail({}, "", "Hyperscan: cannot allocate scratch");
        return false;
      }
    }
    return true;
  }
};

compile_result compiled_set::compile(keyword_set def, const compile_options& options) {
  const auto started = std::chrono::steady_clock::now();
  compile_result res;
  std::unique_ptr<compiled_set> cs(new compiled_set());
  cs->set_ = std::move(def);
  cs->impl_ = std::make_unique<impl>();
  builder b{*cs, cs->set_, options, res, {}, {}, {}};
  if (b.remembered() || !b.make_normalizer()) return res;
  b.add_literals();
  if (b.has_errors()) return res;
  b.add_regexes();
  if (b.has_errors() || !b.build()) return res;
  cs->impl_->identity = cs->set_.normalize == 0 && cs->impl_->regexes == nullptr;
  res.compile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  res.set = std::shared_ptr<const compiled_set>(cs.release());
  return res;
}

size_t compiled_set::literal_count() const { return patterns_.size(); }

size_t compiled_set::database_bytes() const {
  size_t total = 0, n = 0;
  for (auto* db : {impl_->literals, impl_->regexes})
    if (db && hs_database_size(db, &n) == HS_SUCCESS) total += n;
  return total;
}

// Per-thread buffers of match_batch(), reused so that a scan allocates nothing once warm.
struct compiled_set::workspace {
  // The texts of a chunk of messages, each followed by a 0xFF byte (no keyword contains
  // it, so no literal matches across texts), scanned with one call.
  std::string buffer;
  std::vector<normalized_segment> segments;  // their maps
  struct text {
    uint32_t begin, size;                     // in buffer
    uint32_t first_segment, segment_count;    // in segments
  };
  std::vector<text> texts;                    // per field of the chunk
  std::vector<raw_match> chunk_raw;           // the literal matches of the chunk
  // One message:
  std::vector<normalized_view> views;         // per field: what was scanned, and its map
  std::vector<raw_match> raw;                 // one field's matches, offsets in its text
  std::vector<occurrence> occ;
  std::vector<char> suppressed;
  std::vector<std::pair<uint32_t, uint32_t>> allowed;
  std::vector<std::vector<uint32_t>> charpos;

  // The steps of match_message(), on this message's fields (see there).
  void start_message(std::span<const std::string_view> fields, const text* texts, size_t rules);
  std::pair<uint32_t, uint32_t> original(const compiled_set& cs,
                                         std::span<const std::string_view> fields, uint32_t f,
                                         uint32_t nb, uint32_t ne) const;
  void collect_field(const compiled_set& cs, std::span<const std::string_view> fields,
                     uint32_t f, const text& t, hs_scratch_t* scratch, size_t& next_raw);
  uint32_t chars_at(uint32_t f, uint32_t byte);
  bool within(int limit, uint64_t required, size_t i, size_t j, size_t& first, size_t& last);
  hit make_hit(const compiled_set& cs, std::span<const std::string_view> fields, const rule& rl,
               size_t first, size_t last) const;
};

namespace {

// A chunk's scan buffer stops growing past this: long enough that Hyperscan's cost per
// call (setting up the start and end of a block) weighs little, short enough to stay in
// the L2 cache.
constexpr size_t chunk_bytes = 32 * 1024;

}  // namespace

void compiled_set::match(const std::vector<std::string_view>& fields,
                         std::vector<hit>& out) const {
  thread_local std::vector<size_t> begin, ends;
  begin.assign({0, fields.size()});
  ends.clear();
  match_batch(fields, begin, out, ends);
}

void compiled_set::match_batch(std::span<const std::string_view> fields,
                               std::span<const size_t> begin, std::vector<hit>& out,
                               std::vector<size_t>& ends) const {
  const size_t messages = begin.empty() ? 0 : begin.size() - 1;
  const size_t first_hit = out.size(), first_end = ends.size();
  hs_scratch_t* scratch = impl_->acquire();
  if (scratch == nullptr) {
    ends.insert(ends.end(), messages, out.size());
    return;
  }
  thread_local workspace ws;
  const bool identity = impl_->identity;
  for (size_t m0 = 0; m0 < messages;) {
    // Gather a chunk of messages [m0, m1): normalized (or as they are) into one buffer.
    ws.buffer.clear();
    ws.texts.clear();
    size_t segment_count = 0;
    size_t m1 = m0;
    for (; m1 < messages && (m1 == m0 || ws.buffer.size() < chunk_bytes); ++m1) {
      for (size_t f = begin[m1]; f < begin[m1 + 1]; ++f) {
        workspace::text t{static_cast<uint32_t>(ws.buffer.size()), 0,
                          static_cast<uint32_t>(segment_count), 0};
        if (identity) {
          ws.buffer.append(fields[f]);
          t.size = static_cast<uint32_t>(fields[f].size());
        } else {
          t.size = static_cast<uint32_t>(
              norm_->normalize_append(fields[f], ws.buffer, ws.segments, segment_count));
          t.segment_count = static_cast<uint32_t>(segment_count) - t.first_segment;
        }
        ws.texts.push_back(t);
        ws.buffer.push_back('\xFF');
      }
    }
    ws.chunk_raw.clear();
    if (impl_->literals) {
      hs_scan(impl_->literals, ws.buffer.data(), static_cast<unsigned>(ws.buffer.size()), 0,
              scratch, on_match, &ws.chunk_raw);
      // Matches come mostly, but not surely, in order of their end.
      auto by_end = [](const raw_match& a, const raw_match& b) { return a.to < b.to; };
      if (!std::is_sorted(ws.chunk_raw.begin(), ws.chunk_raw.end(), by_end))
        std::sort(ws.chunk_raw.begin(), ws.chunk_raw.end(), by_end);
    }
    size_t next_raw = 0;
    for (size_t m = m0; m < m1; ++m) {
      match_message(fields.subspan(begin[m], begin[m + 1] - begin[m]), scratch, ws,
                    begin[m] - begin[m0], next_raw, out);
      ends.push_back(out.size());
    }
    m0 = m1;
  }
  impl_->release(scratch);
  check_boundaries(fields, begin, out, first_hit, ends, first_end);
}

// Views of the message's fields in the chunk; no occurrence, no rule suppressed yet.
void compiled_set::workspace::start_message(std::span<const std::string_view> fields,
                                            const text* texts, size_t rules) {
  views.clear();
  for (size_t f = 0; f < fields.size(); ++f) {
    const auto& t = texts[f];
    views.push_back({std::string_view(buffer.data() + t.begin, t.size),
                     segments.data() + t.first_segment, t.segment_count,
                     static_cast<uint32_t>(fields[f].size())});
  }
  occ.clear();
  suppressed.assign(rules, 0);
}

// Original span of normalized bytes [nb, ne) of field f.
inline std::pair<uint32_t, uint32_t> compiled_set::workspace::original(
    const compiled_set& cs, std::span<const std::string_view> fields, uint32_t f, uint32_t nb,
    uint32_t ne) const {
  if (cs.impl_->identity) return {nb, ne};
  return normalizer::original_span(views[f], fields[f], nb, ne);
}

// Field f's literal matches (those of the chunk that end inside it) and regex matches, as
// occurrences of rule parts; a `none` part suppresses its rule. Matches inside an allow
// phrase and whole-word literals that are not whole words count for nothing.
inline void compiled_set::workspace::collect_field(const compiled_set& cs,
                                                   std::span<const std::string_view> fields,
                                                   uint32_t f, const text& t,
                                                   hs_scratch_t* scratch, size_t& next_raw) {
  const std::string_view orig = fields[f];
  const std::string_view field_text = views[f].text;
  raw.clear();
  const uint32_t base = t.begin, end = base + t.size;
  for (; next_raw < chunk_raw.size() && chunk_raw[next_raw].to <= end; ++next_raw) {
    const raw_match& m = chunk_raw[next_raw];
    const uint32_t to = m.to - base;
    raw.push_back({m.id, to - static_cast<uint32_t>(cs.patterns_[m.id].text.size()), to});
  }
  const size_t literal_matches = raw.size();
  if (cs.impl_->regexes && !field_text.empty()) {
    hs_scan(cs.impl_->regexes, field_text.data(), static_cast<unsigned>(field_text.size()), 0,
            scratch, on_match, &raw);
  }
  if (raw.empty()) return;
  allowed.clear();
  for (size_t k = 0; k < literal_matches; ++k) {
    if (cs.patterns_[raw[k].id].allow) allowed.emplace_back(raw[k].from, raw[k].to);
  }
  auto inside_allowed = [&](uint32_t b, uint32_t e) {
    for (const auto& [ab, ae] : allowed)
      if (ab <= b && e <= ae) return true;
    return false;
  };
  for (size_t k = 0; k < raw.size(); ++k) {
    const auto& m = raw[k];
    if (!allowed.empty() && inside_allowed(m.from, m.to)) continue;
    if (k >= literal_matches) {  // regex: id is the rule
      occ.push_back({m.id, f, m.from, m.to, static_cast<int>(cs.set_.rules[m.id].all.size() + 1)});
      continue;
    }
    const pattern& p = cs.patterns_[m.id];
    if (p.check_left || p.check_right) {
      const auto [ob, oe] = original(cs, fields, f, m.from, m.to);
      if (p.check_left && cs.norm_->is_word_char_before(orig, ob)) continue;
      if (p.check_right && cs.norm_->is_word_char_at(orig, oe)) continue;
    }
    for (const auto& ref : p.refs) {
      if (ref.part == part_none) suppressed[ref.rule] = 1;
      else if (ref.part >= 0) occ.push_back({ref.rule, f, m.from, m.to, ref.part});
    }
  }
}

// Characters before normalized byte `byte` of field f (the map built on first use).
inline uint32_t compiled_set::workspace::chars_at(uint32_t f, uint32_t byte) {
  auto& cp = charpos[f];
  if (cp.empty()) {
    const auto t = views[f].text;
    cp.resize(t.size() + 1);
    uint32_t c = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      cp[i] = c;
      if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) ++c;
    }
    cp[t.size()] = c;
  }
  return cp[byte];
}

// Whether occurrences [i, j) of one rule hold its required parts within `limit`
// characters of one field; the first such stretch is [first, last).
inline bool compiled_set::workspace::within(int limit, uint64_t required, size_t i, size_t j,
                                            size_t& first, size_t& last) {
  for (size_t a = i; a < j; ++a) {
    const uint32_t start = chars_at(occ[a].field, occ[a].nb);
    uint64_t m = 0;
    uint32_t end = 0;
    for (size_t b = a; b < j && occ[b].field == occ[a].field; ++b) {
      if (chars_at(occ[b].field, occ[b].nb) - start > static_cast<uint32_t>(limit)) break;
      m |= uint64_t{1} << occ[b].part;
      end = std::max(end, chars_at(occ[b].field, occ[b].ne));
      if ((m & required) == required && end - start <= static_cast<uint32_t>(limit)) {
        first = a;
        last = b + 1;
        return true;
      }
    }
  }
  return false;
}

// The hit of rule `rl` made by occurrences [first, last): their original spans, sorted,
// overlapping ones merged (a regex reports several ends for one start), at most max_spans.
inline hit compiled_set::workspace::make_hit(const compiled_set& cs,
                                             std::span<const std::string_view> fields,
                                             const rule& rl, size_t first, size_t last) const {
  hit h;
  h.set_id = cs.set_.id;
  h.set_version = cs.set_.version;
  h.topic = cs.set_.topic;
  h.plan_item = cs.set_.plan_item;
  h.rule_id = rl.id;
  h.level = rl.level;
  for (size_t k = first; k < last; ++k) {
    const auto [b, e] = original(cs, fields, occ[k].field, occ[k].nb, occ[k].ne);
    h.spans.push_back({occ[k].field, b, e});
  }
  std::sort(h.spans.begin(), h.spans.end(), [](const span& a, const span& b) {
    return std::tie(a.field, a.begin, a.end) < std::tie(b.field, b.begin, b.end);
  });
  size_t w = 0;
  for (size_t k = 1; k < h.spans.size(); ++k) {
    auto& cur = h.spans[w];
    if (h.spans[k].field == cur.field && h.spans[k].begin < cur.end) {
      cur.end = std::max(cur.end, h.spans[k].end);
    } else {
      h.spans[++w] = h.spans[k];
    }
  }
  if (!h.spans.empty()) h.spans.resize(w + 1);
  if (h.spans.size() > max_spans) h.spans.resize(max_spans);
  return h;
}

void compiled_set::match_message(std::span<const std::string_view> fields, hs_scratch_t* scratch,
                                 workspace& ws, size_t first_text, size_t& next_raw,
                                 std::vector<hit>& out) const {
  const workspace::text* texts = ws.texts.data() + first_text;
  ws.start_message(fields, texts, set_.rules.size());
  for (uint32_t f = 0; f < fields.size(); ++f)
    ws.collect_field(*this, fields, f, texts[f], scratch, next_raw);
  auto& occ = ws.occ;
  if (occ.empty()) return;
  if (occ.size() > 1) {
    std::sort(occ.begin(), occ.end(), [](const occurrence& a, const occurrence& b) {
      return std::tie(a.rule, a.field, a.nb, a.ne) < std::tie(b.rule, b.field, b.nb, b.ne);
    });
  }
  auto& charpos = ws.charpos;  // built when `within` needs it
  if (charpos.size() < fields.size()) charpos.resize(fields.size());
  for (size_t f = 0; f < fields.size(); ++f) charpos[f].clear();
  // Occurrences [i, j) are one rule's: a hit when its required parts are there (within
  // its distance, if it has one) and no `none` part is.
  for (size_t i = 0; i < occ.size();) {
    const uint32_t r = occ[i].rule;
    size_t j = i;
    uint64_t mask = 0;
    while (j < occ.size() && occ[j].rule == r) mask |= uint64_t{1} << occ[j++].part;
    const rule& rl = set_.rules[r];
    const uint64_t required = impl_->required[r];
    size_t first = i, last = j;  // the occurrences that make the hit
    bool matched = !ws.suppressed[r] && (mask & required) == required;
    if (matched && rl.within > 0) matched = ws.within(rl.within, required, i, j, first, last);
    if (matched) out.push_back(ws.make_hit(*this, fields, rl, first, last));
    i = j;
  }
}

void matcher::match(const std::vector<std::string_view>& fields, std::vector<hit>& out) const {
  out.clear();
  for (const auto& s : sets_) s->match(fields, out);
}

void matcher::append_batch(std::span<const std::string_view> fields, std::span<const size_t> begin,
                           std::vector<hit>& out, std::vector<size_t>& ends) const {
  const size_t messages = begin.empty() ? 0 : begin.size() - 1;
  if (sets_.size() == 1) {
    sets_[0]->match_batch(fields, begin, out, ends);
    return;
  }
  // Set by set over the whole batch, then message by message in set order (the order of
  // match()).
  thread_local std::vector<std::vector<hit>> per_set;
  thread_local std::vector<std::vector<size_t>> per_set_ends;
  if (per_set.size() < sets_.size()) {
    per_set.resize(sets_.size());
    per_set_ends.resize(sets_.size());
  }
  for (size_t s = 0; s < sets_.size(); ++s) {
    per_set[s].clear();
    per_set_ends[s].clear();
    sets_[s]->match_batch(fields, begin, per_set[s], per_set_ends[s]);
  }
  for (size_t m = 0; m < messages; ++m) {
    for (size_t s = 0; s < sets_.size(); ++s) {
      const size_t from = m == 0 ? 0 : per_set_ends[s][m - 1];
      for (size_t h = from; h < per_set_ends[s][m]; ++h) out.push_back(std::move(per_set[s][h]));
    }
    ends.push_back(out.size());
  }
}

std::string highlight(std::string_view text, const boost::container::small_vector<span, 4>& spans,
                      uint32_t field, std::string_view open, std::string_view close,
                      size_t context) {
  auto boundary = [&](size_t i) {  // back to the start of the UTF-8 character at i
    while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
    return std::min(i, text.size());
  };
  size_t from = 0, to = text.size();
  if (context > 0) {
    size_t first = text.size(), last = 0;
    for (const auto& s : spans) {
      if (s.field != field) continue;
      first = std::min<size_t>(first, s.begin);
      last = std::max<size_t>(last, s.end);
    }
    if (first <= last) {
      from = boundary(first > context ? first - context : 0);
      to = boundary(std::min(text.size(), last + context));
    }
  }
  std::string out = from > 0 ? "…" : "";
  size_t at = from;
  for (const auto& s : spans) {
    if (s.field != field || s.begin < at || s.end > to) continue;
    out.append(text.substr(at, s.begin - at)).append(open);
    out.append(text.substr(s.begin, s.end - s.begin)).append(close);
    at = s.end;
  }
  out.append(text.substr(at, to - at));
  if (to < text.size()) out += "…";
  return out;
}

size_t directory_result::error_count() const {
  size_t n = 0;
  for (const auto& r : results)
    for (const auto& d : r.diagnostics) n += d.warning ? 0 : 1;
  return n;
}

std::string directory_result::to_text() const {
  std::string s;
  for (const auto& r : results) s += r.to_text();
  return s;
}

std::optional<std::vector<diagnostic>> compile_failures::find(const std::string& version) const {
  std::lock_guard lock(mu_);
  for (const auto& [v, errors] : entries_)
    if (v == version) return errors;
  return std::nullopt;
}

void compile_failures::remember(const std::string& version, std::vector<diagnostic> errors) {
  std::lock_guard lock(mu_);
  entries_.emplace_back(version, std::move(errors));
  if (entries_.size() > 256) entries_.pop_front();
}

directory_result load_directory(const std::filesystem::path& dir, const compile_options& options) {
  directory_result out;
  std::vector<std::shared_ptr<const compiled_set>> sets;
  std::map<std::string, std::string> ids;  // id -> file
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    compile_result r;
    r.diagnostics.push_back({dir.string(), {}, "", "no such file or directory", false});
    out.results.push_back(std::move(r));
  }
  const bool is_dir = std::filesystem::is_directory(dir, ec);
  for (const auto& file : keyword_set_files(dir)) {
    if (ec) break;
    if (auto why = is_dir ? refused_set_file(dir, file) : ""; !why.empty()) {
      compile_result r;
      r.diagnostics.push_back({file.string(), {}, "", why, false});
      out.results.push_back(std::move(r));
      continue;
    }
    auto r = compiled_set::load(file, options);
    if (r.set) {
      const auto& id = r.set->definition().id;
      if (auto [it, fresh] = ids.emplace(id, file.string()); !fresh) {
        r.diagnostics.push_back(
            {file.string(), {}, "", "set id '" + id + "' is also used by " + it->second, false});
        r.set.reset();
      } else {
        sets.push_back(r.set);
      }
    }
    out.results.push_back(std::move(r));
  }
  out.sets = std::make_shared<const matcher>(std::move(sets));
  if (!options.cache_dir.empty()) {  // entries in use were touched by read_cache()
    const auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 30);
    for (const auto& e : std::filesystem::directory_iterator(options.cache_dir, ec)) {
      std::error_code ec2;
      if (e.path().extension() == ".hsdb" && e.last_write_time(ec2) < cutoff && !ec2)
        std::filesystem::remove(e.path(), ec2);
    }
  }
  return out;
}

}  // namespace yuqing::matchers
