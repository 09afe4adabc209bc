#include "mailbox/probe.h"

namespace yuqing::mailbox {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

probe::probe(metrics::registry& m)
    : state_(BuildGauge().Name("yuqing_mailbox_cases")
                 .Help("Mailbox cases by state (open, overdue, closed)").Register(m.prometheus_registry())),
      open_(BuildGauge().Name("yuqing_mailbox_open_cases")
                .Help("Unanswered mailbox cases within their deadline, by responsible unit")
                .Register(m.prometheus_registry())),
      overdue_(BuildGauge().Name("yuqing_mailbox_overdue_cases")
                   .Help("Unanswered mailbox cases past their deadline, by responsible unit")
                   .Register(m.prometheus_registry())),
      alerts_(BuildCounter().Name("yuqing_mailbox_alerts_total")
                  .Help("Mailbox alerts raised, by kind (due_soon, overdue, concentrated_issue, same_text)")
                  .Register(m.prometheus_registry())),
      replies_(BuildCounter().Name("yuqing_mailbox_replies_total")
                   .Help("Replies that closed a case, by whether they were in time (on_time, late)")
                   .Register(m.prometheus_registry())),
      waiting_(BuildGauge().Name("yuqing_mailbox_deadline_checks_waiting")
                   .Help("Due-soon and overdue checks waiting until the replies are read far enough, by "
                         "reason (replies_behind, replies_not_assigned)")
                   .Register(m.prometheus_registry())) {
  reply_seconds_ = &BuildHistogram().Name("yuqing_mailbox_reply_seconds")
                        .Help("From a mailbox message to its reply")
                        .Register(m.prometheus_registry())
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 5 * 86400,
                                     10 * 86400, 15 * 86400, 30 * 86400, 60 * 86400});
  unmatched_ = &BuildGauge().Name("yuqing_mailbox_unmatched_replies")
                    .Help("Replies whose message has not arrived (kept until it does)")
                    .Register(m.prometheus_registry()).Add({});
  auto& clustered = BuildCounter().Name("yuqing_mailbox_clustered_messages_total")
                        .Help("Messages signed and clustered by text").Register(m.prometheus_registry());
  clustered_ = &clustered.Add({});
  cluster_seconds_ = &BuildCounter().Name("yuqing_mailbox_clustering_seconds_total")
                          .Help("Time spent signing and clustering messages").Register(m.prometheus_registry()).Add({});
  tracked_ = &BuildGauge().Name("yuqing_mailbox_cluster_tracked_messages")
                  .Help("Messages held for text clustering").Register(m.prometheus_registry()).Add({});
  for (const auto& st : {"open", "overdue", "closed"}) state_children_[st] = &state_.Add({{"state", st}});
  for (const auto& k : {"due_soon", "overdue", "concentrated_issue", "same_text"}) alerts_.Add({{"kind", k}});
  for (const auto& r : {"replies_behind", "replies_not_assigned"}) waiting_children_[r] = &waiting_.Add({{"reason", r}});
  for (const auto& k : {"on_time", "late"}) replies_.Add({{"timeliness", k}});
}

void probe::set_all(prometheus::Family<prometheus::Gauge>& f,
                            std::map<std::string, prometheus::Gauge*>& children, const char* label,
                            const std::map<std::string, int64_t>& values) {
  for (auto& [k, g] : children) g->Set(0);
  for (const auto& [k, v] : values) {
    auto& g = children[k];
    if (!g) g = &f.Add({{label, k}});
    g->Set(static_cast<double>(v));
  }
}

void probe::cases(const std::map<std::string, int64_t>& by_state,
                          const std::map<std::string, int64_t>& open_by_unit,
                          const std::map<std::string, int64_t>& overdue_by_unit, int64_t unmatched_replies) {
  std::lock_guard lock(mu_);
  set_all(state_, state_children_, "state", by_state);
  set_all(open_, open_children_, "unit", open_by_unit);
  set_all(overdue_, overdue_children_, "unit", overdue_by_unit);
  unmatched_->Set(static_cast<double>(unmatched_replies));
}

void probe::replied(double seconds, bool on_time) {
  reply_seconds_->Observe(seconds);
  std::lock_guard lock(mu_);
  replies_.Add({{"timeliness", on_time ? "on_time" : "late"}}).Increment();
}

void probe::alert(const std::string& kind) {
  std::lock_guard lock(mu_);
  alerts_.Add({{"kind", kind}}).Increment();
}

void probe::deadline_checks_waiting(const std::map<std::string, int64_t>& by_reason) {
  std::lock_guard lock(mu_);
  set_all(waiting_, waiting_children_, "reason", by_reason);
}

void probe::clustered(uint64_t messages, double seconds, size_t tracked) {
  clustered_->Increment(static_cast<double>(messages));
  cluster_seconds_->Increment(seconds);
  tracked_->Set(static_cast<double>(tracked));
}

}  // namespace yuqing::mailbox
