// keyword_sets: the keyword sets in force, their reloads and their recorded versions.
//
// Operation: a reload loads the keyword-set directory with the code of `yuqingctl check`
// (matchers::load_directory with sets/checks.h's alert-rule checks), reusing the compiled sets whose file is unchanged and the
// Hyperscan cache for the others. A file with errors keeps its previous set in force; a
// removed file removes its set. The new matcher replaces the old one with one pointer
// swap: ingest picks it up at its next batch, a batch in progress finishes with the old one.
// Every new (set, content hash) is recorded in the store with its time, trigger, the person
// who saved it through the API (note_author) and its text.
//
// Triggers: the watcher thread reloads when the directory changes (inotify, after
// `settle_ms` without further changes, so that an editor's save or a `cp -r` is one reload),
// and on request(): SIGHUP and POST /api/v1/keyword-sets/reload. Reloads run on the
// watcher thread, one at a time, never on the ingest thread.
//
// Compiles: Hyperscan has no time limit, and one regex can take minutes. With
// compile_time_limit_ms, every compile (of a reload, and of a set posted to the API through
// compile()) runs in a forked child killed at the limit, and is one at a time on the
// watcher thread, never on the HTTP or the ingest thread. A failed compile is remembered by
// content hash: the same content is refused again at once, without compiling.
//
// Errors: every diagnostic is logged once (an unchanged broken file is not logged again at
// each reload) with file, line, column and rule; a reload with errors counts as failed. A
// file with errors at start-up puts the version of its set recorded last in the store in
// force (event=keyword_set_kept from=store), so a restart does not drop a set whose file
// was broken while the daemon ran. Only
// regular files (or links to them inside the directory) are read: any other entry named
// *.yaml is an error that keeps its previous set.
//
// Concurrency: current() and status() from any thread; start()/stop() from the owner.
#pragma once

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "alerting/rules.h"
#include "config/clock.h"
#include "config/result.h"
#include "sets/probe.h"
#include "matchers/matcher.h"
#include "storage/store.h"

namespace yuqing::sets {

struct keyword_sets_options {
  std::filesystem::path dir;
  std::filesystem::path cache_dir;  // empty: no Hyperscan cache
  int settle_ms = 300;
  bool watch = true;                // inotify on dir
  int compile_time_limit_ms = 0;    // 0: none (compiles on the calling thread)
};

struct reload_outcome {
  bool ok = true;                   // no errors
  bool changed = false;             // a set was added, removed or replaced
  std::string trigger;
  int64_t finished_ms = 0;
  double seconds = 0;
  size_t sets = 0;                  // sets in force afterwards
  std::vector<std::string> errors;  // diagnostics, "FILE:LINE:COL: error: [rule R] ..."
  std::vector<std::string> loaded;  // "set@version" of each new version
};

// A set in force, with how it was loaded.
struct loaded_set {
  std::shared_ptr<const matchers::compiled_set> set;
  int64_t loaded_ms = 0;
  double compile_ms = 0;
  bool from_cache = false;
  std::string trigger;
};

class keyword_sets {
 public:
  // `store` may be null (no version records); it and the probe must outlive this.
  keyword_sets(keyword_sets_options options, storage::store* store, sets::probe& probe,
               const clock& clk);
  ~keyword_sets();
  keyword_sets(const keyword_sets&) = delete;
  keyword_sets& operator=(const keyword_sets&) = delete;

  // Loads the directory now, on the calling thread (at start-up, before start()).
  reload_outcome load(const std::string& trigger);
  // Starts the watcher thread (and the inotify watch when options.watch).
  status start();
  void stop();

  // Asks the watcher thread for a reload; the future has its outcome.
  std::shared_future<reload_outcome> request(const std::string& trigger);
  // Compiles a set posted to the API on the watcher thread; the future has the result. The
  // same content posted again gets the same future (the last 8 are kept), so a client whose
  // wait ran out asks again and does not start a second compile.
  std::shared_future<matchers::compile_result> compile(matchers::keyword_set set);

  // Names the person saving `version` of a set through the API: the version record of its
  // next load says who (a set written and then loaded by another trigger still names them).
  void note_author(const std::string& set_id, const std::string& version, std::string who);

  std::shared_ptr<const matchers::matcher> current() const;
  // The alert rules of the sets in force (swapped with the matcher at each reload).
  std::shared_ptr<const alerting::rule_book> rules() const;
  std::vector<loaded_set> sets() const;
  std::optional<reload_outcome> last_outcome() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::sets
