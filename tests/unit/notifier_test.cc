// The Alertmanager API v2 body the notifier sends (notifier::alertmanager_body): every label
// and annotation, the times, the link back and text that is not UTF-8.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ingest/decoder.h"
#include "alerting/notifier.h"

using namespace yuqing;
using namespace yuqing::alerting;

TEST_CASE("Alertmanager body: labels, annotations, times and the link of each alert", "[notifier]") {
  alerting::alert a;
  a.id = "al-7";
  a.kind = "threshold";
  a.level = alerting::alert_level::orange;
  a.topic = "疫情防控";
  a.set_id = "epidemic";
  a.alert_rule = "burst";
  a.keyword_rule = "outbreak";
  a.plan_item = 3;
  a.plan_text = "监测疫情舆情";
  a.lead_units = {"防控办", "宣传科"};
  a.cooperating_units = {"网信办"};
  a.count = 12;
  a.fired_ms = 1000;
  a.examples = {{"yuqing.posts/p1", 900, "outbreak", "a1", "江门【疫情】"},
                {"yuqing.posts/p2", 950, "outbreak", "a2", "bad \xFF byte"}};
  a.labels = {{"category", "投诉"}};
  const auto body =
      nlohmann::json::parse(notifier::alertmanager_body({a}, 20000, 30, "http://yq:9464"));
  REQUIRE(body.is_array());
  REQUIRE(body.size() == 1);
  const auto& j = body[0];
  CHECK(j["labels"] == nlohmann::json{{"alertname", "yuqing_threshold"},
                                      {"alert_id", "al-7"},
                                      {"level", "orange"},
                                      {"topic", "疫情防控"},
                                      {"plan_item", "3"},
                                      {"unit", "防控办"},
                                      {"receiver", "none"},
                                      {"set", "epidemic"},
                                      {"rule", "burst"},
                                      {"kind", "threshold"},
                                      {"category", "投诉"}});
  const auto& n = j["annotations"];
  CHECK(n["summary"] == a.summary());
  CHECK(n["state"] == "open");
  CHECK(n["condition"] == "firing");
  CHECK(n["acknowledged_by"] == "");
  CHECK(n["handled_by"] == "");
  CHECK(n["keyword_rule"] == "outbreak");
  CHECK(n["lead_units"] == "防控办、宣传科");
  CHECK(n["cooperating_units"] == "网信办");
  CHECK(n["plan_text"] == "监测疫情舆情");
  CHECK(n["count"] == "12");
  // One line per example; a byte that is not UTF-8 is replaced, not a broken body.
  CHECK(n["examples"] == "yuqing.posts/p1 江门【疫情】\nyuqing.posts/p2 bad \xEF\xBF\xBD byte\n");
  CHECK(j["startsAt"] == common::format_rfc3339(1000));
  CHECK(j["endsAt"] == common::format_rfc3339(20000 + 4 * 30000));  // open: four resends ahead
  CHECK(j["generatorURL"] == "http://yq:9464/api/v1/alerts/al-7");
  CHECK(nlohmann::json::parse(notifier::alertmanager_body({a}, 20000, 30, ""))[0].count("generatorURL") == 0);
  CHECK(notifier::alertmanager_body({}, 20000, 30, "") == "[]");
}
