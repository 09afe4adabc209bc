// The briefing service's schedule (daemon/briefing_service.h) on a manual clock: the day
// before's daily briefing at briefing.daily_at, the week before's on Mondays at
// briefing.weekly_at, each made once (also by a new service on the same store, as after a
// restart), and a receiver that cannot be reached counted, not blocking.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>

#include "config/config.h"
#include "daemon/briefing_service.h"
#include "tests/support/temp_dir.h"

using namespace yuqing;

namespace {

// 2022-11-21 was a Monday; times in +08:00.
constexpr int64_t monday = 1668960000000;  // 2022-11-21 00:00 +08:00
constexpr int64_t minute = 60000;

config::daemon_config config_of(const std::string& extra) {
  auto cfg = config::load_string("channels:\n  - {topic: t}\nbriefing:\n  daily_at: \"08:00\"\n  weekly_at: \"08:30\"\n" +
                                     extra,
                                 "test.yaml", ".");
  REQUIRE(cfg);
  return *cfg;
}

std::vector<std::string> ids(const daemon::briefing_service& svc) {
  auto l = svc.list(100);
  REQUIRE(l);
  std::vector<std::string> out;
  for (const auto& b : *l) out.push_back(b.id);
  return out;
}

}  // namespace

TEST_CASE("briefing service: the schedule makes the day before at daily_at and the week before on Mondays, once",
          "[briefing]") {
  const testing::temp_dir tmp;
  auto opened = storage::store::open({tmp.path / "db", false, false});
  REQUIRE(opened);
  auto& store = **opened;
  // A receiver nobody listens on (port 9 of 127.0.0.1): counted as failed, retried later.
  const auto cfg = config_of("  webhooks:\n    - {kind: wecom, url: \"http://127.0.0.1:9/send\"}\n");
  manual_clock clk(monday + 7 * 60 * minute + 59 * minute);  // Monday 07:59
  prometheus::Registry registry;
  {
    daemon::briefing_service svc(cfg, store, clk, {}, registry);
    svc.tick();
    CHECK(ids(svc).empty());
    clk.set_ms(monday + 8 * 60 * minute);  // 08:00: Sunday's daily
    svc.tick();
    CHECK(ids(svc) == std::vector<std::string>{"daily-2022-11-20"});
    auto first = svc.get("daily-2022-11-20");
    REQUIRE(first);
    REQUIRE(first->has_value());
    CHECK((*first)->trigger == "schedule");
    CHECK((*first)->deliveries.at("wecom http://127.0.0.1:9/send") != "ok");  // tried, failed
    const int64_t made_at = (*first)->generated_ms;
    clk.set_ms(monday + 8 * 60 * minute + 30 * minute);  // 08:30: the week before
    svc.tick();
    CHECK(ids(svc) == std::vector<std::string>{"daily-2022-11-20", "weekly-2022-11-14"});
    clk.advance_ms(60 * minute);
    svc.tick();
    auto again = svc.get("daily-2022-11-20");
    CHECK((*again)->generated_ms == made_at);  // not made twice
  }
  // After a restart (a new service on the same store): nothing made again on Monday; the
  // next day's at its time, and no weekly on a Tuesday.
  prometheus::Registry registry2;
  daemon::briefing_service svc(cfg, store, clk, {}, registry2);
  svc.tick();
  CHECK(ids(svc).size() == 2);
  clk.set_ms(monday + 24 * 60 * minute + 9 * 60 * minute);  // Tuesday 09:00
  svc.tick();
  CHECK(ids(svc) == std::vector<std::string>{"daily-2022-11-21", "daily-2022-11-20", "weekly-2022-11-14"});
  // On demand: any period, made again on request.
  auto made = svc.make(*briefing::parse_period("weekly", "2022-11-23", 480), "api");
  REQUIRE(made);
  CHECK(made->id == "weekly-2022-11-21");
  CHECK(made->markdown.find("# 江门市公安局舆情周报（2022年11月21日—11月27日）") == 0);
}
