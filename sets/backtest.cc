#include "sets/backtest.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

namespace yuqing::sets {

namespace {

using nlohmann::json;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

backtest_example example_of(const storage::message_record& m, const matchers::hit& h) {
  const uint32_t field = h.spans.empty() ? 0 : h.spans.front().field;
  const std::string_view text =
      field < m.text.size() ? std::string_view(m.text[field].second) : std::string_view();
  return {m.key, m.time_ms, matchers::highlight(text, h.spans, field, "【", "】", 60)};
}

std::string format_time(int64_t ms) {
  const time_t t = static_cast<time_t>(ms / 1000);
  tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

result<backtest_report> run_backtest(const storage::store& store, const backtest_request& req,
                                     const std::function<bool(const backtest_progress&)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  backtest_report rep;
  rep.set = req.candidate->definition().id;
  rep.candidate_version = req.candidate->definition().version;
  rep.running_version = req.running ? req.running->definition().version : "";
  rep.since_ms = req.since_ms;
  std::map<std::string, rule_change> rules;
  for (const auto& r : req.candidate->definition().rules) rules[r.id].rule = r.id;
  if (req.running)
    for (const auto& r : req.running->definition().rules) rules[r.id].rule = r.id;

  const double share = std::clamp(req.cpu_share, 0.01, 1.0);
  backtest_progress p{0, store.estimate_messages()};
  std::vector<std::string_view> fields;
  std::vector<matchers::hit> before, after;
  std::string after_key;
  alert_simulation sim_candidate(req.candidate->definition());
  std::optional<alert_simulation> sim_running;
  if (req.running) sim_running.emplace(req.running->definition());
  while (true) {
    const double cpu0 = thread_cpu_seconds();
    auto page = store.scan_messages(after_key, 256);
    if (!page) return error{page.error_message()};
    for (const auto& m : page->messages) {
      ++rep.messages_scanned;
      if (m.time_ms < req.since_ms) continue;
      ++rep.messages_in_period;
      fields.clear();
      for (const auto& [name, text] : m.text) fields.push_back(text);
      before.clear();
      after.clear();
      if (req.running) req.running->match(fields, before);
      req.candidate->match(fields, after);
      sim_candidate.add(m, after);
      if (sim_running) sim_running->add(m, before);
      rep.hits_running += before.size();
      rep.hits_candidate += after.size();
      // Rule ids are unique within a set, and each rule hits a message at most once.
      for (const auto& a : after) {
        auto& rc = rules[std::string(a.rule_id)];
        const bool also = std::any_of(before.begin(), before.end(),
                                      [&](const matchers::hit& b) { return b.rule_id == a.rule_id; });
        if (also) {
          ++rc.kept;
        } else if (++rc.added <= req.examples) {
          rc.added_examples.push_back(example_of(m, a));
        }
      }
      for (const auto& b : before) {
        const bool also = std::any_of(after.begin(), after.end(),
                                      [&](const matchers::hit& a) { return a.rule_id == b.rule_id; });
        if (also) continue;
        auto& rc = rules[std::string(b.rule_id)];
        if (++rc.removed <= req.examples) rc.removed_examples.push_back(example_of(m, b));
      }
    }
    p.scanned = rep.messages_scanned;
    p.estimated_total = std::max(p.estimated_total, p.scanned);
    if (progress && !progress(p)) return error{"cancelled"};
    if (page->done) break;
    after_key = page->last_key;
    if (share < 1.0) {  // sleep so that busy / (busy + sleep) stays at the share
      const double busy = thread_cpu_seconds() - cpu0;
      std::this_thread::sleep_for(std::chrono::duration<double>(busy * (1.0 / share - 1.0)));
    }
  }
  for (auto& [id, rc] : rules) rep.rules.push_back(std::move(rc));
  rep.alerts_candidate = sim_candidate.alerts();
  if (sim_running) rep.alerts_running = sim_running->alerts();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return rep;
}

std::string backtest_report::to_json() const {
  auto examples = [](const std::vector<backtest_example>& v) {
    json a = json::array();
    for (const auto& e : v)
      a.push_back({{"message_key", e.message_key}, {"time", format_time(e.time_ms)}, {"text", e.text}});
    return a;
  };
  auto alert_list = [](const std::vector<simulated_alert>& v) {
    json a = json::array();
    for (const auto& x : v)
      a.push_back({{"alert_rule", x.alert_rule}, {"kind", x.kind}, {"level", x.level}, {"keyword_rule", x.keyword_rule},
                   {"fired", format_time(x.fired_ms)}, {"count", x.count}, {"again", x.again},
                   {"summary", x.summary}, {"example", x.example}});
    return a;
  };
  json rj = json::array();
  for (const auto& r : rules)
    rj.push_back({{"rule", r.rule},
                  {"added", r.added},
                  {"removed", r.removed},
                  {"kept", r.kept},
                  {"added_examples", examples(r.added_examples)},
                  {"removed_examples", examples(r.removed_examples)}});
  return json{{"set", set},
              {"candidate_version", candidate_version},
              {"running_version", running_version},
              {"since", format_time(since_ms)},
              {"messages_scanned", messages_scanned},
              {"messages_in_period", messages_in_period},
              {"hits_running", hits_running},
              {"hits_candidate", hits_candidate},
              {"seconds", seconds},
              {"rules", rj},
              {"alerts", {{"running", alert_list(alerts_running)}, {"candidate", alert_list(alerts_candidate)}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

struct backtest_jobs::impl {
  explicit impl(const storage::store& s) : store(s) {}
  struct job {
    std::string id, who, state = "running", error, report;
    backtest_progress progress;
    std::string set;
  };
  const storage::store& store;
  mutable std::mutex mu;
  std::deque<job> jobs;  // the latest last
  uint64_t next_id = 1;
  std::atomic<bool> cancel{false};
  std::thread worker;
  bool running = false;

  job* find(const std::string& id) {
    for (auto& j : jobs)
      if (j.id == id) return &j;
    return nullptr;
  }
};

backtest_jobs::backtest_jobs(const storage::store& store) : impl_(std::make_unique<impl>(store)) {}

backtest_jobs::~backtest_jobs() {
  impl_->cancel = true;
  if (impl_->worker.joinable()) impl_->worker.join();
}

result<std::string> backtest_jobs::start(backtest_request req, std::string who) {
  std::lock_guard lock(impl_->mu);
  if (impl_->running) return error{"a backtest is running: wait for it (GET /api/v1/backtest/ID)"};
  if (impl_->worker.joinable()) impl_->worker.join();  // finished: reap it
  impl::job j;
  j.id = "bt-" + std::to_string(impl_->next_id++);
  j.who = std::move(who);
  j.set = req.candidate->definition().id;
  impl_->jobs.push_back(j);
  while (impl_->jobs.size() > 20) impl_->jobs.pop_front();
  impl_->running = true;
  impl_->cancel = false;
  const std::string id = j.id;
  spdlog::info("event=backtest_started id={} set={} candidate={} running={} since_ms={} by={}", id,
               j.set, req.candidate->definition().version,
               req.running ? req.running->definition().version : "none", req.since_ms, j.who);
  impl_->worker = std::thread([this, id, req = std::move(req)] {
    // The lowest priority for this thread only (Linux applies nice per thread).
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    auto rep = run_backtest(impl_->store, req, [&](const backtest_progress& p) {
      std::lock_guard lock(impl_->mu);
      if (auto* j = impl_->find(id)) j->progress = p;
      return !impl_->cancel.load();
    });
    std::lock_guard lock(impl_->mu);
    impl_->running = false;
    auto* j = impl_->find(id);
    if (!j) return;
    if (rep) {
      j->state = "done";
      j->report = rep->to_json();
      uint64_t added = 0, removed = 0;
      for (const auto& r : rep->rules) {
        added += r.added;
        removed += r.removed;
      }
      spdlog::info("event=backtest_finished id={} set={} result=done messages={} added={} "
                   "removed={} seconds={:.1f}",
                   id, j->set, rep->messages_in_period, added, removed, rep->seconds);
    } else {
      j->state = rep.error_message() == "cancelled" ? "cancelled" : "failed";
      j->error = rep.error_message();
      spdlog::warn("event=backtest_finished id={} set={} result={} error=\"{}\"", id, j->set,
                   j->state, j->error);
    }
  });
  return id;
}

std::optional<std::string> backtest_jobs::get(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  for (const auto& j : impl_->jobs) {
    if (j.id != id) continue;
    json out{{"id", j.id},
             {"state", j.state},
             {"set", j.set},
             {"by", j.who},
             {"progress", {{"scanned", j.progress.scanned}, {"estimated_total", j.progress.estimated_total}}}};
    if (!j.report.empty()) out["report"] = json::parse(j.report);
    if (!j.error.empty()) out["error"] = j.error;
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return std::nullopt;
}

}  // namespace yuqing::sets
