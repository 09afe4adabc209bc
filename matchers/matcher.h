// matcher: keyword sets compiled into Hyperscan databases, and the scanning of messages.
//
// compiled_set: one set version. Its literals (any/all/none/allow, normalized with the
// set's options) form one database built with hs_compile_lit_multi; its regexes form a
// second (hs_compile_multi, UTF-8). Rule logic (all groups, none, within, allow phrases,
// whole Latin words) is decided in our code after the scan, over the whole message.
//
// matcher: an immutable snapshot of the compiled sets in force. Reload builds a new one
// and swaps a shared_ptr; a scan in progress keeps the snapshot it started with.
//
// Batches: match_batch() scans the literals of many messages with one Hyperscan call per
// chunk of about 32 KB (their texts joined by a 0xFF byte, which no keyword contains), then
// decides each message's rules as match() does; the hits are the same.
//
// Concurrency: compiled_set and matcher are immutable after construction and safe to use
// from any number of threads: each scan takes a Hyperscan scratch from the set's pool (one
// per concurrent scanner, allocated on first use, kept for reuse).
//
// Cache: with compile_options::cache_dir, the Hyperscan databases are serialized there under a
// 128-bit hash of everything they are built from (the normalized literals, the regexes and
// their rule numbers, Hyperscan's version); an unchanged set loads them instead of compiling.
// A missing, damaged or foreign entry is compiled again and rewritten. Entries not used for
// 30 days are deleted by load_directory().
//
// Errors: compile() never throws. A keyword that normalizes to nothing, a regex that
// Hyperscan refuses, a compile past compile_options::time_limit_ms or any other failure
// comes back as diagnostics with file, line, column and rule; such a set is not built.
#pragma once

#include <boost/container/small_vector.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "matchers/keyword_set.h"
#include "matchers/normalizer.h"
#include "segment/segmenter.h"

struct hs_scratch;  // Hyperscan's

namespace yuqing::matchers {

// A stretch of the original text of one field: bytes [begin, end).
struct span {
  uint32_t field = 0;  // index into the fields passed to match()
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const span&) const = default;
};

// One rule of one set matching a message. The strings are views into the compiled set's
// definition: valid while the compiled_set (or the matcher holding it) lives.
struct hit {
  std::string_view set_id;
  std::string_view set_version;
  std::string_view topic;
  int plan_item = 0;
  std::string_view rule_id;
  severity level = severity::warning;
  boost::container::small_vector<span, 4> spans;  // sorted, at most max_spans
  // Whether the hit lines up with Chinese words (matchers/boundary.h): unknown when not
  // computed (the rule's `boundary: off`, no dictionary).
  segment::alignment boundary = segment::alignment::unknown;
};

constexpr size_t max_spans = 16;

class compiled_set;
struct boundary_index;  // matchers/boundary.h

// Compiles that failed in Hyperscan (a refused expression, the time limit), by the set's
// content hash (keyword_set::version): the same content again gets the same errors without
// being compiled again, which could take as long again. Thread-safe; keeps the latest 256.
class compile_failures {
 public:
  std::optional<std::vector<diagnostic>> find(const std::string& version) const;
  void remember(const std::string& version, std::vector<diagnostic> errors);

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<std::string, std::vector<diagnostic>>> entries_;
};

struct compile_options {
  std::filesystem::path cache_dir;  // empty: no cache
  // Sets already compiled (the ones in force): load() returns the one with the same id,
  // file and content hash instead of compiling it again.
  std::shared_ptr<const class matcher> reuse;
  // > 0: Hyperscan compiles in a forked child process, killed when it runs longer than
  // this (Hyperscan has no time limit of its own): the set is refused with an error naming
  // the rule being compiled. 0: on the calling thread, without a limit.
  int time_limit_ms = 0;
  // Where Hyperscan's failures are remembered; null: nowhere.
  std::shared_ptr<compile_failures> failures;
  // Checks of the sections this library does not read (the alert rules: sets/checks.h),
  // passed by load() to the parser: an error refuses the set as a parse error does.
  // Empty: none.
  section_check section_checks;
};

struct compile_result {
  std::shared_ptr<const compiled_set> set;  // null when there are errors
  std::vector<diagnostic> diagnostics;      // errors and warnings of parsing and compiling
  double compile_seconds = 0;
  bool from_cache = false;                  // the databases came from the cache
  bool reused = false;                      // the set is compile_options::reuse's
  bool remembered = false;                  // the errors of an earlier compile, not compiled again
  bool ok() const { return set != nullptr; }
  std::string to_text() const;
};

class compiled_set {
 public:
  static compile_result compile(keyword_set set, const compile_options& options = {});
  // Parse and compile one file (the work of `yuqingctl check`).
  static compile_result load(const std::filesystem::path& file,
                             const compile_options& options = {});

  const keyword_set& definition() const { return set_; }
  size_t literal_count() const;
  size_t database_bytes() const;

  // Appends the hits of this set on a message made of `fields` (e.g. title, content).
  void match(const std::vector<std::string_view>& fields, std::vector<hit>& out) const;
  // The same for several messages, scanned together (Hyperscan's cost per call, which
  // weighs on short messages, is paid once per chunk of about 32 KB): message m is
  // fields[begin[m]] .. fields[begin[m + 1] - 1]; its hits are appended to `out`, then
  // out.size() to `ends`.
  void match_batch(std::span<const std::string_view> fields, std::span<const size_t> begin,
                   std::vector<hit>& out, std::vector<size_t>& ends) const;

  // Builds the word-boundary index of the set now (once; see matchers/boundary.h), so
  // that the first match does not (the keyword sets do it when they load a set).
  void prepare_boundaries() const { (void)boundaries(); }

  ~compiled_set();
  compiled_set(const compiled_set&) = delete;
  compiled_set& operator=(const compiled_set&) = delete;

 private:
  compiled_set() = default;
  struct impl;
  struct pattern;
  struct workspace;
  struct builder;  // the steps of compile()
  // The rule logic of one message of a chunk that match_batch() scanned: its fields are
  // the chunk's texts from `first_text`; its literal matches start at chunk_raw[next_raw].
  void match_message(std::span<const std::string_view> fields, ::hs_scratch* scratch,
                     workspace& ws, size_t first_text, size_t& next_raw,
                     std::vector<hit>& out) const;
  // The boundary post-step (matchers/boundary.cc): marks the hits of messages appended
  // since out[first_hit] / ends[first_end] word or cut and drops the cut ones of
  // `boundary: word` rules. Its segmenter is built on first use.
  void check_boundaries(std::span<const std::string_view> fields, std::span<const size_t> begin,
                        std::vector<hit>& out, size_t first_hit, std::vector<size_t>& ends,
                        size_t first_end) const;
  const boundary_index& boundaries() const;
  mutable std::once_flag boundary_once_;
  mutable std::shared_ptr<const boundary_index> boundary_;
  keyword_set set_;
  std::shared_ptr<const normalizer> norm_;
  std::vector<pattern> patterns_;
  std::unique_ptr<impl> impl_;
};

class matcher {
 public:
  explicit matcher(std::vector<std::shared_ptr<const compiled_set>> sets)
      : sets_(std::move(sets)) {}

  const std::vector<std::shared_ptr<const compiled_set>>& sets() const { return sets_; }

  // The hits of every set on one message; `out` is cleared first.
  void match(const std::vector<std::string_view>& fields, std::vector<hit>& out) const;
  // The hits of several messages (see compiled_set::match_batch), message by message and
  // within one message in set order, as match() gives them; appended to `out`.
  void append_batch(std::span<const std::string_view> fields, std::span<const size_t> begin,
                    std::vector<hit>& out, std::vector<size_t>& ends) const;

 private:
  std::vector<std::shared_ptr<const compiled_set>> sets_;
};

// The text of field `field` with its spans marked by `open` and `close`. With context > 0,
// only an excerpt: from `context` bytes before the first span to `context` bytes after the
// last (cut at UTF-8 character boundaries, "…" where cut).
std::string highlight(std::string_view text, const boost::container::small_vector<span, 4>& spans,
                      uint32_t field, std::string_view open, std::string_view close,
                      size_t context = 0);

// Loads every set file of a directory. Sets with errors are left out and their
// diagnostics returned; duplicate set ids are errors.
struct directory_result {
  std::shared_ptr<const class matcher> sets;  // the sets without errors
  std::vector<compile_result> results;  // one per file, in file order
  size_t error_count() const;
  std::string to_text() const;
};
directory_result load_directory(const std::filesystem::path& dir,
                                const compile_options& options = {});

// Where a component reads the matcher in force (the keyword sets' current(); a reload
// changes what it returns).
using matcher_source = std::function<std::shared_ptr<const matcher>()>;

}  // namespace yuqing::matchers
