// routes_precision: the HTTP API of yuqing::precision (issue 23) and its metric.
//
//   POST /api/v1/hits/{id}/verdict      {"verdict": "false"|"误报"|..., "note": "..."}  analyst
//   GET  /api/v1/hits/{id}/verdict
//   POST /api/v1/alerts/{id}/verdict    the same, on every example of the alert  analyst
//   GET  /api/v1/alerts/{id}/verdict    (add_routes() before the alerts/ prefix routes)
//   GET  /api/v1/verdicts?set=&rule=&verdict=&limit=
//   GET  /api/v1/precision?set=&from=&to=
//   GET  /api/v1/suggestions?set=&rule=&since=&top=
//   POST /api/v1/suggestions/apply      {"set", "rule", "n", "since"}                  analyst
// yuqing_rule_verdicts_total{set,rule,verdict}: the verdicts given, read back from the store
// at start (so it does not reset with a restart), counted on at each verdict.
//
// A verdict is given by a person's token (its name and unit are recorded); the shared
// http.token is an admin without a name, so its body must say "who". A rule of a set with
// precision_threshold whose precision falls under it raises a blue rule_tuning alert
// (规则需要调整) through the alerting service; back over it, the alert's condition clears.
//
// Concurrency: the handlers run on the HTTP thread; the counters have their own mutex and
// are read by the scraping thread. Errors: every bad parameter is a 4xx naming it, and
// nothing is written then.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "config/plan.h"
#include "http/server.h"
#include "sets/keyword_sets.h"
#include "metrics/registry.h"
#include "precision/verdicts.h"
#include "storage/store.h"

namespace yuqing::alerting {
class service;
}  // namespace yuqing::alerting

namespace yuqing::daemon {

class precision_api {
 public:
  // Everything must outlive this; the counters are restored from the store here.
  precision_api(storage::store& store, sets::keyword_sets& sets, std::shared_ptr<const config::plan> plan,
                metrics::registry& registry);
  ~precision_api();
  precision_api(const precision_api&) = delete;
  precision_api& operator=(const precision_api&) = delete;

  // Where rule_tuning alerts go (null: nowhere); set once alerting has started.
  void set_alerts(alerting::service* alerts);
  void add_routes(http::http_server& http);

  // A hit as the API lists it, with its id, verdict, the text around each span and the
  // links to its message.
  nlohmann::json enrich_hit(const storage::hit_record& h, nlohmann::json j) const;
  // /api/v1/rules: each rule with its verdicts and precision over the stored hits; when
  // there are verdicts, ranked by false hits, then precision, then hits.
  void rank_rules(nlohmann::json& rules) const;

 private:
  http::http_response alert_verdict(const http::http_request& r);  // POST and GET /api/v1/alerts/{id}/verdict
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::daemon
