// api_json: how the HTTP API reads its parameters and writes hits, alerts and reloads,
// shared by the route files. A bad parameter is named in the error (never a default).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert.h"
#include "alerting/service.h"
#include "config/result.h"
#include "http/server.h"
#include "matchers/matcher.h"
#include "sets/keyword_sets.h"
#include "storage/records.h"

namespace yuqing::daemon {

std::string join(const std::set<std::string>& words);
nlohmann::json hit_json(const storage::hit_record& h);
// A hit of /api/v1/test: its spans in the posted fields, highlighted.
nlohmann::json hit_json(const matchers::hit& h, const std::vector<std::string>& names,
                        const std::vector<std::string_view>& fields);
// A count parameter (limit): digits, 1..max; absent: dflt. Throws invalid_argument(key).
size_t query_count(const http::http_request& r, const std::string& key, size_t dflt, size_t max);
// A time parameter: RFC 3339, ms or an age like 7d; absent: dflt. Throws invalid_argument(key).
int64_t query_int(const http::http_request& r, const std::string& key, int64_t dflt);
// An alert as the API gives it: beside each time in epoch ms (fired_ms), the same time in
// RFC 3339 at the configured offset (fired); a time not reached yet (0) has none.
nlohmann::json alert_json(const alerting::alert& a, int offset_minutes);
// The filters of GET /api/v1/alerts; "" or what is wrong, naming the parameter.
std::string read_alert_query(const http::http_request& r, alerting::alert_query& q);
nlohmann::json outcome_json(const sets::reload_outcome& o);
// Parses a set posted in a request and has it compiled on the keyword-set thread (with the
// time limit), waiting at most a second: the diagnostics as the error, or null while it
// still compiles (answer still_compiling(); posted again, the same compile answers).
result<std::shared_ptr<const matchers::compiled_set>> posted_set(sets::keyword_sets& sets,
                                                                 const std::string& yaml);
http::http_response still_compiling();

}  // namespace yuqing::daemon
