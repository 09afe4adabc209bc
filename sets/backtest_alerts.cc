#include "sets/backtest_alerts.h"

#include <algorithm>

#include "alerting/evaluator.h"
#include "sets/checks.h"

namespace yuqing::sets {

alert_simulation::alert_simulation(const matchers::keyword_set& set)
    : set_(set), rules_(alert_rules_of(set).rules) {}

void alert_simulation::add(const storage::message_record& m, const std::vector<matchers::hit>& hits) {
  if (rules_.empty()) return;
  alerting::hit_event e;
  for (const auto& h : hits) {
    if (h.set_id != set_.id) continue;
    const uint32_t f = h.spans.empty() ? 0 : h.spans.front().field;
    e.rules.push_back({std::string(h.rule_id), h.level,
                       f < m.text.size() ? matchers::highlight(m.text[f].second, h.spans, f, "【", "】", 40) : ""});
  }
  if (e.rules.empty()) return;
  e.topic = set_.topic;
  e.set_id = set_.id;
  e.set_version = set_.version;
  e.plan_item = set_.plan_item;
  e.set_message(m);
  events_.push_back(std::move(e));
}

std::vector<simulated_alert> alert_simulation::alerts() const {
  std::vector<const alerting::hit_event*> order;
  for (const auto& e : events_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->time_ms, a->message_key) < std::tie(b->time_ms, b->message_key);
  });
  alerting::evaluator ev(alerting::settings{});
  std::vector<simulated_alert> out;
  auto keep = [&](const std::vector<alerting::notification>& notes) {
    for (const auto& n : notes) {
      if (n.why != alerting::reason::fired && n.why != alerting::reason::fired_again) continue;
      const auto& a = n.snapshot;
      out.push_back({a.alert_rule, a.kind, alerting::to_string(a.level), a.keyword_rule, a.summary(),
                     n.why == alerting::reason::fired ? a.fired_ms : a.last_hit_ms, a.count,
                     n.why == alerting::reason::fired_again, a.examples.empty() ? "" : a.examples.back().text});
    }
  };
  for (const auto* e : order) {
    keep(ev.tick(e->time_ms));
    keep(ev.on_hit(*e, rules_, e->time_ms, false, {}, set_.name));
  }
  return out;
}

}  // namespace yuqing::sets
