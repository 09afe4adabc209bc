// The alert evaluator with an injected time: each rule kind fires at the right message and
// not one before, clears, dedups; spike against a quiet and a noisy baseline; condition and
// duty state apart (closing only when handled, or unattended for blue and yellow); windows
// clearing on message time in a backlog; lifecycle, escalation, repeats, response clocks; a
// restart in the middle of a window.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "alerting/evaluator.h"

using namespace yuqing;
using namespace yuqing::alerting;
using alerting::alert_rule;
using alerting::severity;

namespace {

constexpr int64_t min = 60 * 1000;
constexpr int64_t t0 = 1700000000000;  // some morning

alert_rule rule(const std::string& kind, int64_t window, uint64_t count,
                alert_level level = alert_level::yellow) {
  alert_rule r;
  r.id = kind + "-1";
  r.kind = kind;
  r.window_ms = window;
  r.count = count;
  r.level = level;
  return r;
}

hit_event hit(const std::string& key, int64_t time, const std::string& author = "a",
              severity level = severity::warning, const std::string& rule_id = "r1") {
  hit_event e;
  e.topic = "epidemic";
  e.set_id = "s";
  e.plan_item = 4;
  e.message_key = "posts/" + key;
  e.time_ms = time;
  e.author = author;
  e.source = "src-" + author;
  e.rules.push_back({rule_id, level, "【疫情】" + key});
  return e;
}

std::shared_ptr<const config::plan> plan() {
  auto p = std::make_shared<config::plan>();
  config::plan_item item;
  item.number = 4;
  item.subsection = "（一）持续做好疫情防控信息公开。";
  item.lead_units = {"防控办"};
  item.cooperating_units = {"宣传科"};
  p->items.push_back(item);
  return p;
}

// Feeds the hits live; returns the index of the hit that fired (-1: none).
int fired_at(evaluator& ev, const std::vector<hit_event>& hits, const std::vector<alert_rule>& rules) {
  for (size_t i = 0; i < hits.size(); ++i) {
    auto n = ev.on_hit(hits[i], rules, hits[i].time_ms);
    for (const auto& x : n)
      if (x.why == reason::fired) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("threshold fires at the Nth message in the window, not before, once", "[alerting]") {
  evaluator ev({}, plan());
  const std::vector<alert_rule> rules = {rule("threshold", 10 * min, 3, alert_level::orange)};
  CHECK(ev.on_hit(hit("1", t0), rules, t0).empty());
  CHECK(ev.on_hit(hit("1", t0), rules, t0).empty());  // the same message again counts once
  CHECK(ev.on_hit(hit("2", t0 + 1 * min), rules, t0).empty());
  auto n = ev.on_hit(hit("3", t0 + 2 * min), rules, t0 + 2 * min);
  REQUIRE(n.size() == 1);
  CHECK(n[0].why == reason::fired);
  const alert a = n[0].snapshot;
  CHECK(a.count == 3);
  CHECK(a.level == alert_level::orange);
  CHECK(a.topic == "epidemic");
  CHECK(a.lead_units == std::vector<std::string>{"防控办"});
  CHECK(a.cooperating_units == std::vector<std::string>{"宣传科"});
  CHECK(a.first_hit_ms == t0);
  CHECK(a.last_hit_ms == t0 + 2 * min);
  CHECK(a.examples.size() == 3);
  CHECK(a.examples.back().text == "【疫情】3");
  CHECK(a.release_by_ms == t0 + 2 * min + 5 * 3600 * 1000);  // orange: a major event
  CHECK(a.respond_by_ms == t0 + 2 * min + 24 * 3600 * 1000);

  // More hits update the alert; no second alert while it fires.
  CHECK(ev.on_hit(hit("4", t0 + 3 * min), rules, t0 + 3 * min).empty());
  CHECK(ev.find(a.id)->count == 4);
  CHECK(ev.alerts().size() == 1);

  // Acknowledged (so it does not escalate); the window empties; the condition clears
  // resolve_after (10m) after the window did. Orange: the alert stays until handled.
  REQUIRE(ev.acknowledge(a.id, "值班员", "", t0 + 3 * min).ok());
  CHECK(ev.tick(t0 + 5 * min).empty());  // still 4 in window
  CHECK(ev.tick(t0 + 20 * min).empty());  // clear since now
  auto r = ev.tick(t0 + 30 * min);
  REQUIRE(r.size() == 1);
  CHECK(r[0].why == reason::cleared);
  CHECK(ev.find(a.id)->condition == alert_condition::cleared);
  CHECK(ev.find(a.id)->state == alert_state::acknowledged);
  CHECK(ev.tick(t0 + 35 * min).empty());
  REQUIRE(ev.handle(a.id, "宣传科", "已处置", t0 + 35 * min).ok());
  r = ev.tick(t0 + 36 * min);
  REQUIRE(r.size() == 1);
  CHECK(r[0].why == reason::closed);
  CHECK(ev.find(a.id)->state == alert_state::closed);

  // A new crossing is a new alert.
  std::vector<hit_event> again = {hit("5", t0 + 40 * min), hit("6", t0 + 41 * min), hit("7", t0 + 42 * min)};
  CHECK(fired_at(ev, again, rules) == 2);
  CHECK(ev.alerts().size() == 2);
}

TEST_CASE("threshold: messages spread wider than the window never fire", "[alerting]") {
  evaluator ev({});
  const std::vector<alert_rule> rules = {rule("threshold", 10 * min, 3)};
  std::vector<hit_event> hits;
  for (int i = 0; i < 10; ++i) hits.push_back(hit(std::to_string(i), t0 + i * 6 * min));
  CHECK(fired_at(ev, hits, rules) == -1);
  // Out-of-order arrival still counts by message time.
  evaluator ev2({});
  CHECK(fired_at(ev2, {hit("a", t0 + 9 * min), hit("b", t0), hit("c", t0 + 5 * min)}, rules) == 2);
}

TEST_CASE("spike against a quiet and a noisy baseline", "[alerting]") {
  alert_rule r = rule("spike", 15 * min, 3);
  r.baseline_ms = 60 * min;
  r.factor = 3;
  const std::vector<alert_rule> rules = {r};
  const int64_t start = t0 + 120 * min;
  std::vector<hit_event> burst;
  for (int i = 0; i < 8; ++i) burst.push_back(hit("b" + std::to_string(i), start + i * min));

  SECTION("quiet: fires at min_count") {
    evaluator ev({});
    CHECK(fired_at(ev, burst, rules) == 2);
  }
  SECTION("noisy: 7 messages in the baseline hour expect 1.75 per 15 minutes, so 6 are needed") {
    evaluator ev({});
    std::vector<hit_event> hits;
    // Every 8 minutes: never 3 within 15 minutes by themselves.
    for (int i = 0; i < 8; ++i) hits.push_back(hit("n" + std::to_string(i), start - 75 * min + i * 8 * min));
    CHECK(fired_at(ev, hits, rules) == -1);
    hits = burst;
    CHECK(fired_at(ev, hits, rules) == 5);
  }
}

TEST_CASE("spread counts distinct authors or sources", "[alerting]") {
  alert_rule r = rule("spread", 30 * min, 3);
  evaluator ev({});
  CHECK(fired_at(ev, {hit("1", t0, "甲"), hit("2", t0 + min, "甲"), hit("3", t0 + 2 * min, "乙"),
                      hit("4", t0 + 3 * min, "乙"), hit("5", t0 + 4 * min, "丙")},
                 {r}) == 4);
  // Authors leave the window as it slides: one still counts while a later message of
  // theirs is in it, and stops counting when their last one has left.
  {
    evaluator sliding({});
    CHECK(fired_at(sliding, {hit("1", t0, "甲"), hit("2", t0 + 10 * min, "乙"), hit("3", t0 + 20 * min, "甲"),
                             hit("4", t0 + 35 * min, "丙")},
                   {r}) == 3);  // (5, 35]: 乙, 甲, 丙
  }
  {
    evaluator sliding({});
    CHECK(fired_at(sliding, {hit("1", t0, "甲"), hit("2", t0 + 10 * min, "乙"), hit("3", t0 + 31 * min, "丙"),
                             hit("4", t0 + 32 * min, "丙"), hit("5", t0 + 33 * min, "丁")},
                   {r}) == 4);  // 甲 left at 30: 乙, 丙 until 丁 comes
  }
  {
    // A late message counts in the windows that hold it: 乙 at 3 arrives after 丙 at 31
    // (甲 at 0 has left); (-27, 3] holds 丁 and 乙, (1, 31] holds 丁, 乙 and 丙: fired.
    evaluator late({});
    CHECK(fired_at(late, {hit("1", t0, "甲"), hit("2", t0 + 2 * min, "丁"), hit("3", t0 + 31 * min, "丙"),
                          hit("4", t0 + 3 * min, "乙")},
                   {r}) == 3);
  }
  r.distinct = "source";
  evaluator by_source({});
  CHECK(fired_at(by_source, {hit("1", t0, "甲"), hit("2", t0 + min, "乙"), hit("3", t0 + 2 * min, "丙")},
                 {r}) == 2);
}

TEST_CASE("an alert says what it counts: the keyword rule its alert rule is restricted to, authors or sources",
          "[alerting]") {
  auto first_fired = [](evaluator& ev, const std::vector<hit_event>& hits, const alert_rule& r) {
    for (const auto& h : hits)
      for (const auto& n : ev.on_hit(h, {r}, h.time_ms))
        if (n.why == reason::fired) return n.snapshot;
    FAIL("nothing fired");
    return alert{};
  };
  alert_rule wage = rule("threshold", 10 * min, 2);
  wage.rule = "wage";
  evaluator ev({});
  const auto a = first_fired(ev, {hit("1", t0, "甲", severity::warning, "wage"), hit("2", t0 + min, "乙", severity::warning, "other"),
                                  hit("3", t0 + 2 * min, "丙", severity::warning, "wage")}, wage);
  CHECK(a.keyword_rule == "wage");
  CHECK(a.fingerprint.find("wage") == std::string::npos);  // fingerprints stay as they were
  alert_rule by_author = rule("spread", 30 * min, 2);
  evaluator ev2({});
  const auto b = first_fired(ev2, {hit("1", t0, "甲"), hit("2", t0 + min, "乙")}, by_author);
  CHECK(b.distinct_by == "author");
  CHECK_THAT(b.summary(), Catch::Contains("2个作者"));
  CHECK(alert::from_json(b.to_json())->distinct_by == "author");
  by_author.distinct = "source";
  evaluator ev3({});
  CHECK_THAT(first_fired(ev3, {hit("1", t0, "甲"), hit("2", t0 + min, "乙")}, by_author).summary(),
             Catch::Contains("2个来源"));
}

TEST_CASE("immediate fires at the first severe hit, one alert per keyword rule", "[alerting]") {
  alert_rule r = rule("immediate", 0, 0, alert_level::yellow);
  r.min_severity = severity::critical;
  r.resolve_after_ms = 30 * min;
  evaluator ev({});
  CHECK(ev.on_hit(hit("1", t0, "a", severity::warning), {r}, t0).empty());
  auto n = ev.on_hit(hit("2", t0 + min, "a", severity::critical), {r}, t0 + min);
  REQUIRE(n.size() == 1);
  CHECK(n[0].snapshot.keyword_rule == "r1");
  CHECK(ev.on_hit(hit("3", t0 + 2 * min, "a", severity::critical), {r}, t0 + 2 * min).empty());
  CHECK(ev.find(n[0].snapshot.id)->count == 2);
  auto other = ev.on_hit(hit("4", t0 + 3 * min, "a", severity::critical, "r2"), {r}, t0 + 3 * min);
  REQUIRE(other.size() == 1);
  CHECK(other[0].snapshot.fingerprint != n[0].snapshot.fingerprint);
  // No severe hit for resolve_after: the condition clears; yellow closes unattended once
  // it has stayed clear for the grace time (30 min).
  CHECK(ev.tick(t0 + 20 * min).empty());
  auto r1 = ev.tick(t0 + 33 * min);
  REQUIRE(r1.size() == 2);
  CHECK(r1[0].why == reason::cleared);
  CHECK(r1[0].snapshot.state == alert_state::open);
  for (const auto& x : ev.tick(t0 + 62 * min)) CHECK(x.why == reason::repeat);  // still open
  auto r2 = ev.tick(t0 + 63 * min);
  REQUIRE(r2.size() == 2);
  CHECK(r2[0].why == reason::closed);
  CHECK(r2[1].snapshot.state == alert_state::closed);
}

TEST_CASE("an unacknowledged red alert whose condition cleared stays open, escalates and repeats, a new hit sets it firing again",
          "[alerting]") {
  alert_rule r = rule("immediate", 0, 0, alert_level::red);
  r.min_severity = severity::critical;
  r.resolve_after_ms = 10 * min;
  evaluator ev({});
  auto n = ev.on_hit(hit("1", t0, "a", severity::critical), {r}, t0);
  REQUIRE(n.size() == 1);
  const std::string id = n[0].snapshot.id;
  auto c = ev.tick(t0 + 11 * min);
  REQUIRE(c.size() == 1);
  CHECK(c[0].why == reason::cleared);
  auto e = ev.tick(t0 + 15 * min);  // escalation runs whatever the condition
  REQUIRE(e.size() == 1);
  CHECK(e[0].why == reason::escalated);
  CHECK(e[0].snapshot.condition == alert_condition::cleared);
  auto rep = ev.tick(t0 + 75 * min);
  REQUIRE(rep.size() == 1);
  CHECK(rep[0].why == reason::repeat);
  auto rep2 = ev.tick(t0 + 3 * 60 * min);
  REQUIRE(rep2.size() == 1);
  CHECK(rep2[0].why == reason::repeat);
  CHECK(ev.find(id)->state == alert_state::open);  // red never closes unattended
  // The same rule again: the open alert fires again, no second alert.
  auto again = ev.on_hit(hit("2", t0 + 3 * 60 * min, "a", severity::critical), {r}, t0 + 3 * 60 * min);
  REQUIRE(again.size() == 1);
  CHECK(again[0].why == reason::fired_again);
  CHECK(again[0].snapshot.id == id);
  CHECK(ev.alerts().size() == 1);
  // Handled while firing: closes once the condition has cleared.
  REQUIRE(ev.handle(id, "宣传科", "", t0 + 3 * 60 * min + 1).ok());
  CHECK(ev.find(id)->state == alert_state::handled);
  auto closed = ev.tick(t0 + 3 * 60 * min + 11 * min);
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].why == reason::cleared);
  CHECK(closed[1].why == reason::closed);
  CHECK(closed[1].snapshot.audit.back().note == "handled, and the condition has cleared");
}

TEST_CASE("a backlog read after an outage: windows clear on message time, not on the wall clock",
          "[alerting]") {
  alert_rule r = rule("immediate", 0, 0, alert_level::yellow);
  r.min_severity = severity::critical;
  r.resolve_after_ms = 10 * min;
  const int64_t wall = t0 + 60 * min;  // the messages of t0.. are read an hour late
  settings s;
  s.close_grace_ms = 5 * min;
  SECTION("from the hits topic (positions known): message time") {
    evaluator ev(s);
    auto n = ev.on_hit(hit("1", t0, "a", severity::critical), {r}, wall, false, {0, 10});
    REQUIRE(n.size() == 1);
    CHECK(ev.window_clock(0, wall) == t0);
    CHECK(ev.tick(wall).empty());  // at message time t0 the window holds the message
    CHECK(ev.on_hit(hit("2", t0 + 5 * min, "b", severity::critical), {r}, wall + 500, false, {0, 11}).empty());
    CHECK(ev.tick(wall + 1000).empty());
    CHECK(ev.find(n[0].snapshot.id)->count == 2);
    // Read up: the partition's time goes on with the wall clock from the last message's.
    CHECK(ev.window_clock(0, wall + 500 + 9 * min) == t0 + 14 * min);
    CHECK(ev.tick(wall + 500 + 9 * min).empty());
    auto c = ev.tick(wall + 500 + 10 * min);
    REQUIRE(c.size() == 1);
    CHECK(c[0].why == reason::cleared);
    CHECK(ev.tick(wall + 500 + 14 * min).empty());  // the grace runs on the wall clock
    REQUIRE(ev.tick(wall + 500 + 15 * min).size() == 1);
    // Never past the wall clock; another partition keeps its own time.
    ev.on_hit(hit("3", wall + 60 * min, "a", severity::critical), {r}, wall + 20 * min, false, {0, 12});
    CHECK(ev.window_clock(0, wall + 20 * min) == wall + 20 * min);
    CHECK(ev.window_clock(1, wall + 20 * min) == wall + 20 * min);
  }
  SECTION("without positions (tests, replays from elsewhere): the wall clock") {
    evaluator ev(s);
    REQUIRE(ev.on_hit(hit("1", t0, "a", severity::critical), {r}, wall).size() == 1);
    auto c = ev.tick(wall);
    REQUIRE(c.size() == 1);
    CHECK(c[0].why == reason::cleared);
  }
}

TEST_CASE("lifecycle: acknowledge, escalation, repeats, response clocks, handled", "[alerting]") {
  settings s;
  evaluator ev(s);
  const std::vector<alert_rule> orange = {rule("threshold", 60 * min, 1, alert_level::orange)};
  const auto fired = ev.on_hit(hit("1", t0), orange, t0);
  REQUIRE(fired.size() == 1);
  const std::string id = fired[0].snapshot.id;

  SECTION("not acknowledged: escalated to red after 15 minutes, then repeats hourly") {
    CHECK(ev.tick(t0 + 14 * min).empty());
    auto e = ev.tick(t0 + 15 * min);
    REQUIRE(e.size() == 1);
    CHECK(e[0].why == reason::escalated);
    CHECK(e[0].snapshot.level == alert_level::red);
    CHECK(ev.tick(t0 + 16 * min).empty());
    // Keep the condition on so it does not resolve.
    for (int i = 2; i < 80; ++i) ev.on_hit(hit(std::to_string(i), t0 + i * min), orange, t0 + i * min);
    auto rep = ev.tick(t0 + 75 * min);
    REQUIRE(rep.size() == 1);
    CHECK(rep[0].why == reason::repeat);
  }
  SECTION("acknowledged: no escalation; the clocks run until it is handled") {
    REQUIRE(ev.acknowledge(id, "值班员张三", "已签收", t0 + min).ok());
    CHECK_FALSE(ev.acknowledge(id, "x", "", t0 + min).ok());  // only once
    CHECK(ev.tick(t0 + 20 * min).empty());
    for (int i = 2; i < 300; ++i) ev.on_hit(hit(std::to_string(i), t0 + i * min), orange, t0 + i * min);
    auto soon = ev.tick(t0 + 4 * 60 * min + 1);  // 5 h release clock, warned 1 h before
    REQUIRE(soon.size() == 1);
    CHECK(soon[0].why == reason::clock);
    CHECK(soon[0].detail == "release_soon");
    auto missed = ev.tick(t0 + 5 * 60 * min);
    REQUIRE(missed.size() == 1);
    CHECK(missed[0].detail == "release_missed");
    REQUIRE(ev.handle(id, "宣传科李四", "已发布权威信息", t0 + 5 * 60 * min + 1).ok());
    CHECK(ev.tick(t0 + 24 * 60 * min).empty());  // handled: the response clock stopped
    const auto* a = ev.find(id);
    REQUIRE(a->audit.size() == 5);  // fired, acknowledged, 2 clocks, handled
    CHECK(a->audit[1].who == "值班员张三");
    CHECK(a->audit[4].note == "已发布权威信息");
  }
  CHECK_FALSE(ev.handle("al-none", "x", "", t0).ok());
}

TEST_CASE("a restart in the middle of a window fires at the same message, nothing twice",
          "[alerting]") {
  const std::vector<alert_rule> rules = {rule("threshold", 10 * min, 5)};
  std::vector<hit_event> hits;
  for (int i = 0; i < 7; ++i) hits.push_back(hit(std::to_string(i), t0 + i * min));

  evaluator straight({});
  std::string id;
  for (size_t i = 0; i < hits.size(); ++i)
    for (const auto& n : straight.on_hit(hits[i], rules, hits[i].time_ms))
      if (n.why == reason::fired) id = n.snapshot.id + "@" + std::to_string(i);

  // Restarted after message 2 was evaluated: messages 0..2 are replayed, 3.. are live.
  evaluator restarted({});
  std::string id2;
  for (size_t i = 0; i < hits.size(); ++i)
    for (const auto& n : restarted.on_hit(hits[i], rules, hits[i].time_ms, i <= 2))
      if (n.why == reason::fired) id2 = n.snapshot.id + "@" + std::to_string(i);
  CHECK(id == id2);
  CHECK(id.ends_with("@4"));

  // Restarted after it fired: the alert is restored, the replay fires nothing new.
  evaluator after({});
  after.restore(*straight.find(id.substr(0, id.find('@'))));
  int fired = 0;
  for (size_t i = 0; i < hits.size(); ++i)
    for (const auto& n : after.on_hit(hits[i], rules, hits[i].time_ms, i <= 5))
      fired += n.why == reason::fired;
  CHECK(fired == 0);
  CHECK(after.alerts().size() == 1);
  CHECK(after.alerts()[0].count == 7);
}

TEST_CASE("alerts and hit events round-trip through JSON", "[alerting]") {
  evaluator ev({}, plan());
  const auto n = ev.on_hit(hit("1", t0), {rule("threshold", min, 1, alert_level::red)}, t0);
  REQUIRE(n.size() == 1);
  const auto back = alert::from_json(n[0].snapshot.to_json());
  REQUIRE(back.has_value());
  CHECK(back->to_json() == n[0].snapshot.to_json());
  CHECK(back->summary().find("红色预警") != std::string::npos);
  const auto e = hit_event::from_json(hit("x", t0, "作者", severity::critical).to_json());
  REQUIRE(e.has_value());
  CHECK(e->author == "作者");
  CHECK(e->rules[0].level == severity::critical);
  CHECK_FALSE(alert::from_json("{").has_value());
}

TEST_CASE("messages out of time order (several partitions): a late one completes the window it belongs to, one older than the kept windows is dropped",
          "[alerting]") {
  const std::vector<alert_rule> rules = {rule("threshold", 10 * min, 3)};
  {
    // 9, then 1 and 3 arrive late: (t0-1, t0+9] holds all three, so the third fires, at 9.
    evaluator ev({}, plan());
    CHECK(fired_at(ev, {hit("a", t0 + 9 * min), hit("b", t0 + 1 * min), hit("c", t0 + 3 * min)}, rules) == 2);
    REQUIRE(ev.alerts().size() == 1);
    CHECK(ev.alerts()[0].last_hit_ms == t0 + 9 * min);
    CHECK(ev.alerts()[0].count == 3);
  }
  {
    // A message older than the newest one by more than the window is out of every window
    // that is still kept: 20, then 1, 3 and 2 fire nothing.
    evaluator ev({}, plan());
    const std::vector<hit_event> hits = {hit("a", t0 + 20 * min), hit("b", t0 + 1 * min),
                                         hit("c", t0 + 3 * min), hit("d", t0 + 2 * min)};
    CHECK(fired_at(ev, hits, rules) == -1);
  }
}

TEST_CASE("the oldest offset each partition's windows still hold (what the evaluator may commit)",
          "[alerting]") {
  evaluator ev({});
  const std::vector<alert_rule> rules = {rule("threshold", 10 * min, 100)};
  ev.on_hit(hit("1", t0), rules, t0, false, {0, 40});
  ev.on_hit(hit("2", t0 + min), rules, t0 + min, false, {1, 7});
  ev.on_hit(hit("3", t0 + 2 * min), rules, t0 + 2 * min, false, {0, 41});
  ev.on_hit(hit("4", t0 + 3 * min), rules, t0 + 3 * min, false, {0, 12});  // out of offset order
  ev.on_hit(hit("5", t0 + 4 * min), rules, t0 + 4 * min);  // no position: not held
  CHECK(ev.oldest_needed() == std::map<int32_t, int64_t>{{0, 12}, {1, 7}});
  // The window slides past the first three: partition 1 holds nothing, 0 holds offset 12.
  ev.on_hit(hit("6", t0 + 12 * min + 30000), rules, t0 + 12 * min + 30000, false, {2, 3});
  CHECK(ev.oldest_needed() == std::map<int32_t, int64_t>{{0, 12}, {2, 3}});
}

TEST_CASE("hit events: the JSON is what nlohmann writes, read back field for field, bad events refused",
          "[alerting]") {
  using nlohmann::json;
  hit_event e;
  e.topic = "涉稳 \"quoted\"";
  e.set_id = "set\\back";
  e.set_version = "v1";
  e.plan_item = 7;
  e.message_key = "posts/a\tb\nc";
  e.time_ms = -1234;
  e.author = "作者\x01\x1f\x7f";
  e.source = "🙂 emoji";
  e.channel = "";
  e.title = "\b\f\r";
  e.rules = {{"r1", severity::critical, "…古代集中【热势力】同年…"}, {"r2", severity::info, ""}};
  json rules = json::array();
  for (const auto& r : e.rules)
    rules.push_back({{"rule", r.rule}, {"severity", common::to_string(r.level)}, {"excerpt", r.excerpt}});
  const json expected = {{"topic", e.topic}, {"set", e.set_id}, {"set_version", e.set_version},
                         {"plan_item", e.plan_item}, {"message_key", e.message_key},
                         {"time_ms", e.time_ms}, {"author", e.author}, {"source", e.source},
                         {"channel", e.channel}, {"title", e.title}, {"rules", rules}};
  CHECK(e.to_json() == expected.dump());

  auto back = hit_event::from_json(e.to_json());
  REQUIRE(back.has_value());
  CHECK(back->to_json() == e.to_json());
  CHECK(back->topic == e.topic);
  CHECK(back->time_ms == -1234);
  CHECK(back->author == e.author);
  REQUIRE(back->rules.size() == 2);
  CHECK(back->rules[0].level == severity::critical);
  CHECK(back->rules[1].level == severity::info);

  // Bytes that are not UTF-8 become U+FFFD, so the event stays readable.
  e.author = "a\xff" "b\xe4\xb8";
  back = hit_event::from_json(e.to_json());
  REQUIRE(back.has_value());
  CHECK(back->author == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");

  // Optional fields default; required ones, types and syntax are checked.
  back = hit_event::from_json(R"({"topic":"t","set":"s","message_key":"k","time_ms":5,"rules":[{"rule":"r"}]})");
  REQUIRE(back.has_value());
  CHECK(back->plan_item == 0);
  CHECK(back->rules[0].level == severity::warning);
  CHECK(back->author.empty());
  for (const char* bad : {R"({"set":"s","message_key":"k","time_ms":5,"rules":[]})",
                          R"({"topic":"t","set":"s","message_key":"k","rules":[]})",
                          R"({"topic":"t","set":"s","message_key":"k","time_ms":5})",
                          R"({"topic":"t","set":"s","message_key":"k","time_ms":"5","rules":[]})",
                          R"({"topic":1,"set":"s","message_key":"k","time_ms":5,"rules":[]})",
                          R"({"topic":"t","set":"s","message_key":"k","time_ms":5,"rules":[{"severity":"info"}]})",
                          R"({"topic":"t","set":"s","message_key":"k","time_ms":5,"author":null,"rules":[]})",
                          R"(["topic"])", "{", ""}) {
    INFO(bad);
    CHECK_FALSE(hit_event::from_json(bad).has_value());
  }
}

TEST_CASE("alerts raised elsewhere (mailbox cases): fired once, updated, never resolved by a window, resolved on request",
          "[alerting]") {
  settings s;
  s.escalate_ms = 15 * min;
  evaluator ev(s, plan());
  alert a;
  a.fingerprint = "mailbox/overdue/m1";
  a.origin = "mailbox";
  a.kind = "overdue";
  a.level = alert_level::orange;
  a.count = 1;
  a.labels = {{"case", "m1"}};
  auto n = ev.raise(a, t0);
  REQUIRE(n.size() == 1);
  CHECK(n[0].why == reason::fired);
  const std::string id = n[0].snapshot.id;
  CHECK(n[0].snapshot.state == alert_state::open);
  a.count = 3;
  CHECK(ev.raise(a, t0 + min).empty());  // the same fingerprint is active: updated, not fired again
  CHECK(ev.find(id)->count == 3);
  // No window holds it: ticks do not resolve it; escalation still applies.
  auto t = ev.tick(t0 + 20 * min);
  REQUIRE(t.size() == 1);
  CHECK(t[0].why == reason::escalated);
  CHECK(ev.find(id)->active());
  REQUIRE(ev.acknowledge(id, "值班员", "已签收", t0 + 21 * min));
  // Restored after a restart it still waits for its owner.
  evaluator after(s, plan());
  after.restore(*ev.find(id));
  CHECK(after.tick(t0 + 60 * min).empty());
  auto cleared = after.resolve("mailbox/overdue/m1", "replied", t0 + 61 * min);
  REQUIRE(cleared);
  REQUIRE(cleared->size() == 1);
  CHECK((*cleared)[0].why == reason::cleared);
  CHECK((*cleared)[0].snapshot.state == alert_state::acknowledged);  // orange: waits to be handled
  CHECK((*cleared)[0].snapshot.audit.back().note == "replied");
  CHECK(after.resolve("mailbox/overdue/m1", "again", t0 + 62 * min)->empty());
  CHECK_FALSE(after.resolve("mailbox/overdue/none", "", t0 + 62 * min));
  n = after.raise(a, t0 + 63 * min);  // the case is overdue again: the same alert fires again
  REQUIRE(n.size() == 1);
  CHECK(n[0].why == reason::fired_again);
  REQUIRE(after.resolve("mailbox/overdue/m1", "replied", t0 + 64 * min));
  REQUIRE(after.handle(id, "信访办", "已答复", t0 + 65 * min).ok());
  auto closed = after.tick(t0 + 66 * min);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].why == reason::closed);
  CHECK(after.raise(a, t0 + 67 * min)[0].why == reason::fired);  // a new alert after it closed
}
