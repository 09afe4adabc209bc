#include "sets/keyword_sets.h"

#include "sets/checks.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace yuqing::sets {

namespace {

// Changes that can alter the directory's sets: set files, and the `..data` link swap of a
// Kubernetes ConfigMap volume.
bool relevant(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.starts_with("..");
}

}  // namespace

struct keyword_sets::impl {
  impl(keyword_sets_options o, storage::store* s, sets::probe& p, const clock& c)
      : opt(std::move(o)), store(s), probe(p), clk(c) {}

  keyword_sets_options opt;
  storage::store* store;
  sets::probe& probe;
  const clock& clk;

  mutable std::mutex mu;  // guards matcher, rules, info, last, authors
  std::shared_ptr<const matchers::matcher> matcher =
      std::make_shared<const matchers::matcher>(std::vector<std::shared_ptr<const matchers::compiled_set>>{});
  std::shared_ptr<const alerting::rule_book> rules = std::make_shared<const alerting::rule_book>();
  std::map<std::string, loaded_set> info;  // by set id
  std::optional<reload_outcome> last;
  std::map<std::pair<std::string, std::string>, std::string> authors;  // (set, version) -> who

  std::mutex reload_mu;  // one reload at a time; guards the members below
  std::set<std::string> logged;                 // diagnostics of the last reload
  std::map<std::string, std::pair<std::string, int64_t>> recorded;  // set id -> last version, its time
  bool recorded_read = false;

  // The watcher thread and its requests.
  int inotify_fd = -1, watch_fd = -1, wake_fd = -1;
  std::atomic<bool> stopping{false};
  std::thread thread;
  std::mutex queue_mu;  // guards queue, compiles and posted
  std::vector<std::pair<std::string, std::promise<reload_outcome>>> queue;
  std::vector<std::pair<matchers::keyword_set, std::promise<matchers::compile_result>>> compiles;
  std::deque<std::pair<std::string, std::shared_future<matchers::compile_result>>> posted;

  const std::shared_ptr<matchers::compile_failures> failures =
      std::make_shared<matchers::compile_failures>();

  matchers::compile_options compile_options(std::shared_ptr<const matchers::matcher> reuse,
                                            std::filesystem::path cache) const {
    return checked_options({std::move(cache), std::move(reuse), opt.compile_time_limit_ms, failures});
  }
  reload_outcome load(const std::string& trigger);
  bool note_diagnostics(const matchers::directory_result& loaded, const std::string& trigger, reload_outcome& out);
  void publish(reload_outcome& out, std::vector<std::shared_ptr<const matchers::compiled_set>> next,
               std::map<std::string, loaded_set> next_info, const std::vector<loaded_set>& fresh,
               std::chrono::steady_clock::time_point started);
  void note_removed(const std::map<std::string, loaded_set>& previous_info,
                    const std::map<std::string, loaded_set>& next_info, const std::string& trigger,
                    reload_outcome& out);
  // The version of the set `file` declares that was recorded last, compiled: for a file
  // with errors at start-up, when no set of it is in force yet. nullopt when there is none.
  std::optional<loaded_set> recorded_set(const std::string& file, const std::string& trigger, int64_t now);
  void run_compiles();
  void record_versions(const std::vector<loaded_set>& fresh);
  void watch_loop();
  bool add_watch();
};

void keyword_sets::impl::record_versions(const std::vector<loaded_set>& fresh) {
  if (!store) return;
  if (!recorded_read) {
    auto latest = store->set_versions("", 1);
    if (!latest) {
      spdlog::error("event=set_versions_unreadable error=\"{}\"", latest.error_message());
    } else {
      for (const auto& r : *latest) recorded[r.set_id] = {r.version, r.loaded_ms};
      recorded_read = true;
    }
  }
  for (const auto& l : fresh) {
    const auto& d = l.set->definition();
    auto& last = recorded[d.id];
    std::string who;
    {
      std::lock_guard lock(mu);
      if (auto it = authors.find({d.id, d.version}); it != authors.end()) {
        who = it->second;
        authors.erase(it);
      }
    }
    if (last.first == d.version) {
      // Recorded by an earlier run, perhaps before texts were kept: keep its text now.
      if (auto st = store->put_set_text(d.id, d.version, d.text); !st)
        spdlog::error("event=set_text_not_recorded set={} version={} error=\"{}\"", d.id, d.version,
                      st.error_message());
      continue;
    }
    // Versions of one set are ordered by their time: two within a millisecond get the next.
    const int64_t at = std::max(l.loaded_ms, last.second + 1);
    storage::set_version_record r{d.id,       d.version,   at,           l.trigger,
                                  d.file,     d.rules.size(), l.set->literal_count(),
                                  l.compile_ms, l.from_cache, who, d.text};
    if (auto st = store->record_set_version(r); !st) {
      spdlog::error("event=set_version_not_recorded set={} version={} error=\"{}\"", d.id,
                    d.version, st.error_message());
      continue;
    }
    last = {d.version, at};
  }
}

// Logs each diagnostic of a load once (until it goes away) and puts the errors in `out`;
// true when an error is new.
bool keyword_sets::impl::note_diagnostics(const matchers::directory_result& loaded, const std::string& trigger,
                                          reload_outcome& out) {
  std::set<std::string> diagnostics;
  bool fresh_errors = false;
  for (const auto& r : loaded.results) {
    for (const auto& d : r.diagnostics) {
      const auto text = d.to_text();
      diagnostics.insert(text);
      if (!d.warning) out.errors.push_back(text);
      if (logged.count(text)) continue;
      if (d.warning) {
        spdlog::warn("event=keyword_set_warning trigger={} {}", trigger, text);
      } else {
        spdlog::error("event=keyword_set_rejected trigger={} {}", trigger, text);
        fresh_errors = true;
      }
    }
  }
  logged = std::move(diagnostics);
  out.ok = out.errors.empty();
  return fresh_errors;
}

// The sets in force before that the directory no longer has.
void keyword_sets::impl::note_removed(const std::map<std::string, loaded_set>& previous_info,
                                      const std::map<std::string, loaded_set>& next_info,
                                      const std::string& trigger, reload_outcome& out) {
  for (const auto& [id, l] : previous_info) {
    if (!next_info.count(id)) {
      out.changed = true;
      probe.set_removed(id);
      spdlog::info("event=keyword_set_removed trigger={} set={} version={}", trigger, id,
                   l.set->definition().version);
    }
  }
}

// Puts the loaded sets in force (when something changed), records the fresh versions and
// reports the reload (metrics, log, last outcome).
void keyword_sets::impl::publish(reload_outcome& out, std::vector<std::shared_ptr<const matchers::compiled_set>> next,
                                 std::map<std::string, loaded_set> next_info, const std::vector<loaded_set>& fresh,
                                 std::chrono::steady_clock::time_point started) {
  out.changed = out.changed || !fresh.empty();
  out.sets = next.size();
  for (const auto& [id, l] : next_info)
    probe.set_in_force(id, l.set->definition().version, l.set->definition().rules.size(), l.loaded_ms);
  auto next_matcher = out.changed ? std::make_shared<const matchers::matcher>(std::move(next)) : nullptr;
  auto next_rules = next_matcher ? rule_book_of(*next_matcher) : nullptr;
  {
    std::lock_guard lock(mu);
    if (next_matcher) {
      matcher = std::move(next_matcher);
      rules = std::move(next_rules);
    }
    info = std::move(next_info);
  }
  record_versions(fresh);
  out.finished_ms = clk.now_ms();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  probe.keyword_sets_loaded(out.sets);
  probe.reload(out.ok);
  spdlog::info("event=reload_finished trigger={} result={} changed={} sets={} errors={} seconds={:.3f}",
               out.trigger, out.ok ? "ok" : "failed", out.changed, out.sets, out.errors.size(),
               out.seconds);
  {
    std::lock_guard lock(mu);
    last = out;
  }
}

reload_outcome keyword_sets::impl::load(const std::string& trigger) {
  std::lock_guard reload_lock(reload_mu);
  const auto started = std::chrono::steady_clock::now();
  reload_outcome out;
  out.trigger = trigger;
  std::shared_ptr<const matchers::matcher> previous;
  std::map<std::string, loaded_set> previous_info;
  {
    std::lock_guard lock(mu);
    previous = matcher;
    previous_info = info;
  }
  auto loaded = matchers::load_directory(opt.dir, compile_options(previous, opt.cache_dir));
  const int64_t now = clk.now_ms();

  const bool fresh_errors = note_diagnostics(loaded, trigger, out);

  std::vector<std::shared_ptr<const matchers::compiled_set>> next;
  std::map<std::string, loaded_set> next_info;
  std::vector<loaded_set> fresh;
  std::error_code ec;
  if (!std::filesystem::is_directory(opt.dir, ec)) {
    // The directory is gone or unreadable (being replaced?): keep everything in force.
    next = previous->sets();
    next_info = previous_info;
  }
  for (const auto& r : loaded.results) {
    if (r.set) {
      const auto& d = r.set->definition();
      if (r.reused && previous_info.count(d.id)) {
        next_info[d.id] = previous_info[d.id];
      } else {
        // The word-boundary index (and, the first time, the segmenter's dictionary: about
        // half a second) is built here, not on the ingest thread at the set's first hit.
        r.set->prepare_boundaries();
        loaded_set l{r.set, now, r.compile_seconds * 1000, r.from_cache, trigger};
        next_info[d.id] = l;
        fresh.push_back(l);
        out.loaded.push_back(d.id + "@" + d.version);
        probe.compiled(r.compile_seconds);
        spdlog::info("event=keyword_set_loaded trigger={} set={} version={} rules={} literals={} "
                     "compile_ms={:.1f} from_cache={} file={}",
                     trigger, d.id, d.version, d.rules.size(), r.set->literal_count(),
                     r.compile_seconds * 1000, r.from_cache, d.file);
      }
      next.push_back(r.set);
      continue;
    }
    // A file with errors keeps the set it had; at start-up, the version recorded last.
    const std::string file = r.diagnostics.empty() ? "" : r.diagnostics.front().file;
    bool kept = false;
    for (const auto& old : previous->sets()) {
      const auto& d = old->definition();
      if (d.file != file || next_info.count(d.id)) continue;
      if (fresh_errors)
        spdlog::warn("event=keyword_set_kept set={} version={} file={}", d.id, d.version, file);
      next.push_back(old);
      next_info[d.id] = previous_info[d.id];
      kept = true;
    }
    if (auto l = kept || trigger != "startup" ? std::nullopt : recorded_set(file, trigger, now);
        l && !next_info.count(l->set->definition().id)) {
      next.push_back(l->set);
      next_info[l->set->definition().id] = *l;
      out.changed = true;
    }
  }

  note_removed(previous_info, next_info, trigger, out);
  publish(out, std::move(next), std::move(next_info), fresh, started);
  return out;
}

std::optional<loaded_set> keyword_sets::impl::recorded_set(const std::string& file, const std::string& trigger,
                                                           int64_t now) {
  const auto id = store ? matchers::declared_set_id(file) : std::nullopt;
  if (!id) return std::nullopt;
  const auto latest = store->set_versions(*id, 1);
  if (!latest || latest->empty()) return std::nullopt;
  const auto& v = latest->back();
  const auto recorded = store->set_text(*id, v.version);
  if (!recorded || !*recorded) return std::nullopt;
  auto parsed = parse_set(**recorded, file);
  if (!parsed.ok()) return std::nullopt;
  auto c = matchers::compiled_set::compile(std::move(*parsed.set), compile_options(nullptr, opt.cache_dir));
  if (!c.ok()) return std::nullopt;
  c.set->prepare_boundaries();
  spdlog::warn("event=keyword_set_kept set={} version={} file={} from=store recorded_ms={} "
               "effect=\"the file has errors: the version recorded last is in force\"",
               *id, c.set->definition().version, file, v.loaded_ms);
  return loaded_set{c.set, now, c.compile_seconds * 1000, c.from_cache, trigger};
}

void keyword_sets::impl::run_compiles() {
  std::vector<std::pair<matchers::keyword_set, std::promise<matchers::compile_result>>> jobs;
  {
    std::lock_guard lock(queue_mu);
    jobs.swap(compiles);
  }
  for (auto& [set, done] : jobs) {
    const std::string id = set.id, version = set.version;
    // Posted sets (dry runs, backtests) do not fill the Hyperscan cache.
    auto r = matchers::compiled_set::compile(std::move(set), compile_options(nullptr, {}));
    if (!r.ok() && !r.remembered)
      spdlog::warn("event=posted_set_refused set={} version={} errors={} compile_ms={:.1f}", id,
                   version, r.diagnostics.size(), r.compile_seconds * 1000);
    done.set_value(std::move(r));
  }
}

bool keyword_sets::impl::add_watch() {
  watch_fd = inotify_add_watch(inotify_fd, opt.dir.c_str(),
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                   IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB);
  return watch_fd >= 0;
}

void keyword_sets::impl::watch_loop() {
  using steady = std::chrono::steady_clock;
  std::optional<steady::time_point> due;  // a directory change waits for quiet until then
  bool lost_logged = false;
  alignas(inotify_event) char buf[16384];
  while (!stopping.load()) {
    if (opt.watch && watch_fd < 0) {
      if (add_watch()) {
        if (lost_logged) spdlog::info("event=keyword_sets_watch_restored dir={}", opt.dir.string());
        lost_logged = false;
        due = steady::now() + std::chrono::milliseconds(opt.settle_ms);
      } else if (!lost_logged) {
        spdlog::warn("event=keyword_sets_watch_failed dir={} error=\"{}\" retry_ms=1000",
                     opt.dir.string(), std::strerror(errno));
        lost_logged = true;
      }
    }
    int timeout = opt.watch && watch_fd < 0 ? 1000 : -1;
    if (due) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*due - steady::now());
      timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    const int n = poll(fds, inotify_fd >= 0 ? 2 : 1, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("event=keyword_sets_poll_failed error=\"{}\"", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (inotify_fd >= 0 && n > 0 && (fds[1].revents & POLLIN)) {
      const ssize_t len = read(inotify_fd, buf, sizeof buf);
      for (ssize_t at = 0; len > 0 && at < len;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
          // The directory itself went (replaced by a deploy?): watch it again when it is back.
          inotify_rm_watch(inotify_fd, watch_fd);
          watch_fd = -1;
          due = steady::now() + std::chrono::milliseconds(opt.settle_ms);
        } else if (ev->mask & IN_Q_OVERFLOW || (ev->len > 0 && relevant(ev->name))) {
          due = steady::now() + std::chrono::milliseconds(opt.settle_ms);
        }
      }
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      (void)!read(wake_fd, &v, sizeof v);
    }
    std::vector<std::pair<std::string, std::promise<reload_outcome>>> requests;
    {
      std::lock_guard lock(queue_mu);
      requests.swap(queue);
    }
    run_compiles();
    if (!requests.empty()) {
      std::string trigger;
      for (const auto& [t, p] : requests) trigger += (trigger.empty() ? "" : ",") + t;
      const auto outcome = load(trigger);
      for (auto& [t, p] : requests) p.set_value(outcome);
      due.reset();  // that reload read the directory as it is now
    } else if (due && steady::now() >= *due && !stopping.load()) {
      due.reset();
      load("inotify");
    }
  }
}

keyword_sets::keyword_sets(keyword_sets_options options, storage::store* store, sets::probe& probe,
                           const clock& clk)
    : impl_(std::make_unique<impl>(std::move(options), store, probe, clk)) {}

keyword_sets::~keyword_sets() { stop(); }

reload_outcome keyword_sets::load(const std::string& trigger) { return impl_->load(trigger); }

status keyword_sets::start() {
  impl_->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wake_fd < 0) return error{std::string("eventfd: ") + std::strerror(errno)};
  if (impl_->opt.watch) {
    impl_->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (impl_->inotify_fd < 0) return error{std::string("inotify: ") + std::strerror(errno)};
    if (!impl_->add_watch())
      return error{impl_->opt.dir.string() + ": cannot watch: " + std::strerror(errno)};
  }
  impl_->thread = std::thread([this] { impl_->watch_loop(); });
  return ok_status();
}

void keyword_sets::stop() {
  if (impl_->thread.joinable()) {
    impl_->stopping = true;
    uint64_t one = 1;
    (void)!write(impl_->wake_fd, &one, sizeof one);
    impl_->thread.join();
  }
  for (int* fd : {&impl_->inotify_fd, &impl_->wake_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  // Requests that came too late are answered, not left hanging.
  std::lock_guard lock(impl_->queue_mu);
  for (auto& [t, p] : impl_->queue) {
    reload_outcome o;
    o.ok = false;
    o.trigger = t;
    o.errors.push_back("the daemon is stopping");
    p.set_value(o);
  }
  impl_->queue.clear();
  for (auto& [set, p] : impl_->compiles) {
    matchers::compile_result r;
    r.diagnostics.push_back({set.file, {}, "", "the daemon is stopping", false});
    p.set_value(std::move(r));
  }
  impl_->compiles.clear();
}

std::shared_future<reload_outcome> keyword_sets::request(const std::string& trigger) {
  std::promise<reload_outcome> p;
  std::shared_future<reload_outcome> f = p.get_future().share();
  if (!impl_->thread.joinable() || impl_->stopping.load()) {
    p.set_value(impl_->load(trigger));
    return f;
  }
  {
    std::lock_guard lock(impl_->queue_mu);
    impl_->queue.emplace_back(trigger, std::move(p));
  }
  uint64_t one = 1;
  (void)!write(impl_->wake_fd, &one, sizeof one);
  return f;
}

std::shared_future<matchers::compile_result> keyword_sets::compile(matchers::keyword_set set) {
  std::promise<matchers::compile_result> p;
  std::shared_future<matchers::compile_result> f = p.get_future().share();
  {
    std::lock_guard lock(impl_->queue_mu);
    for (const auto& [version, known] : impl_->posted)
      if (version == set.version) return known;
    impl_->posted.emplace_back(set.version, f);
    if (impl_->posted.size() > 8) impl_->posted.pop_front();
    impl_->compiles.emplace_back(std::move(set), std::move(p));
  }
  if (!impl_->thread.joinable() || impl_->stopping.load()) {
    impl_->run_compiles();
    return f;
  }
  uint64_t one = 1;
  (void)!write(impl_->wake_fd, &one, sizeof one);
  return f;
}

void keyword_sets::note_author(const std::string& set_id, const std::string& version, std::string who) {
  std::lock_guard lock(impl_->mu);
  if (impl_->authors.size() >= 64) impl_->authors.clear();  // saves whose reload never came
  impl_->authors[{set_id, version}] = std::move(who);
}

std::shared_ptr<const matchers::matcher> keyword_sets::current() const {
  std::lock_guard lock(impl_->mu);
  return impl_->matcher;
}

std::shared_ptr<const alerting::rule_book> keyword_sets::rules() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rules;
}

std::vector<loaded_set> keyword_sets::sets() const {
  std::lock_guard lock(impl_->mu);
  std::vector<loaded_set> out;
  for (const auto& [id, l] : impl_->info) out.push_back(l);
  return out;
}

std::optional<reload_outcome> keyword_sets::last_outcome() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last;
}

}  // namespace yuqing::sets
