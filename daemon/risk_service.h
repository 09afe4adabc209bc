// risk_service: the daemon's side of risk/ (issue 24): the engine fed with every stored
// batch, rebuilt from the store at start, the policies, the metrics families and the
// risk_level alerts.
//
// Operation: start() loads the gazetteer and the tendency lists named in risk.* (a broken
// file stops the start, with file:line:column), registers the policies, and reads the
// stored hits and messages of the history back into the engine. Ingest calls stored() on
// its thread after each batch is durable; stored() feeds the engine and then compares
// each topic's level (region 全市) at the newest message with the level it last
// announced: a rise to risk.alert_from or above raises an alert of kind risk_level
// (fingerprint risk_level/<topic>/<level>, one per level reached), a fall clears the ones
// above. The metrics are computed at scrape time from the engine (families()).
//
// Concurrency: stored() from the ingest thread; everything else from any thread (the
// engine and the policy book lock themselves; announced levels have their own mutex).
// Limitations: a policy curve reads every stored message (the retention of
// storage.message_retention_hours) on the calling thread.
#pragma once

#include <prometheus/metric_family.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerting/alert.h"
#include "config/clock.h"
#include "config/config.h"
#include "ingest/companion.h"
#include "risk/risk.h"
#include "storage/store.h"

namespace yuqing::mailbox {
class calendar;
}
namespace yuqing::http {
class http_server;
}

namespace yuqing::daemon {

struct risk_alert_sink {
  std::function<void(alerting::alert)> raise;
  std::function<bool(const std::string& fingerprint, const std::string& note)> resolve;
};

class risk_service final : public ingest::companion {
 public:
  risk_service(const config::daemon_config& cfg, storage::store& store, const clock& clk);
  risk_service(const risk_service&) = delete;
  risk_service& operator=(const risk_service&) = delete;

  // `cal` (may be null: 15 calendar days) gives mailbox deadlines as the mailbox does; it
  // must outlive the service.
  status start(risk_alert_sink sink, const mailbox::calendar* cal);
  // ingest::companion: the engine is fed with every stored batch (ingest thread).
  void stored(const storage::batch& b, std::any) override;
  // True once start() succeeded; before, engine() must not be called (routes answer 503).
  bool ready() const { return ready_.load(); }

  const risk::engine& engine() const { return *engine_; }
  risk::policy_book& policies() { return policies_; }
  const risk::policy_book& policies() const { return policies_; }
  // The reaction curve of a registered policy up to until_ms (clustered like the mailbox).
  result<risk::policy_curve> curve(const std::string& id, int64_t until_ms) const;
  // yuqing_risk_index, yuqing_risk_level, yuqing_risk_part_points, yuqing_risk_part_score,
  // yuqing_risk_window_messages, yuqing_risk_baseline_messages{topic,region}.
  std::vector<prometheus::MetricFamily> families() const;

 private:
  void announce(const std::vector<risk::reading>& totals);
  alerting::alert level_alert(const risk::reading& r) const;
  const config::daemon_config& cfg_;
  storage::store& store_;
  const clock& clk_;
  std::unique_ptr<risk::engine> engine_;
  risk::policy_book policies_;
  std::shared_ptr<const risk::lexicon> lexicon_;
  risk_alert_sink sink_;
  std::mutex mu_;
  std::map<std::string, risk::level> announced_;  // topic -> level last announced
  std::atomic<bool> ready_{false};
};

}  // namespace yuqing::daemon

namespace yuqing::daemon {
// GET /api/v1/risk, /api/v1/risk/series, /api/v1/risk/snapshot, /api/v1/tendency,
// /api/v1/policies, /api/v1/policies/{id}; POST /api/v1/policies and DELETE
// /api/v1/policies/{id} (analyst). daemon/routes_risk.cc.
void add_risk_routes(http::http_server& http, risk_service& svc, const storage::store& store, const clock& clk,
                     int utc_offset_minutes);
}  // namespace yuqing::daemon
