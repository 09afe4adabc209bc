#include <catch2/catch.hpp>

#include "alerting/notifier.h"
#include "common/time.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::alerting;

TEST_CASE("Alertmanager: open alerts fire whatever their condition, acknowledged ones end then, each alert its own labels, the unit directory",
          "[notifier]") {
  alerting::alert a;
  a.id = "al-1";
  a.kind = "immediate";
  a.level = alerting::alert_level::red;
  a.lead_units = {"宣传科"};
  a.fired_ms = 1000;
  a.condition = alerting::alert_condition::cleared;
  alerting::alert b = a;
  b.id = "al-2";
  b.state = alerting::alert_state::acknowledged;
  b.acknowledged_ms = 5000;
  b.audit.push_back({5000, "acknowledged", "张三（防控办）", ""});
  const unit_directory units = {{"宣传科", {"市委宣传部", "publicity"}}};
  const auto body = nlohmann::json::parse(notifier::alertmanager_body({a, b}, 10000, 60, "", units));
  REQUIRE(body.size() == 2);
  CHECK(body[0]["labels"]["alert_id"] == "al-1");
  CHECK(body[1]["labels"]["alert_id"] == "al-2");
  CHECK(body[0]["labels"]["unit"] == "市委宣传部");
  CHECK(body[0]["labels"]["receiver"] == "publicity");
  CHECK(body[0]["endsAt"] == common::format_rfc3339(10000 + 4 * 60000));  // open, condition cleared: firing
  CHECK(body[1]["endsAt"] == common::format_rfc3339(5000));               // acknowledged: ended then
  CHECK(body[1]["annotations"]["acknowledged_by"] == "张三（防控办）");
  const auto plain = nlohmann::json::parse(notifier::alertmanager_body({a}, 10000, 60, ""));
  CHECK(plain[0]["labels"]["unit"] == "宣传科");
  CHECK(plain[0]["labels"]["receiver"] == "none");
}
