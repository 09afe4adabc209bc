// Hit-event benchmark (issue: alerting, through-Kafka rate). Every matched message and set
// becomes a hit event: written as JSON by ingest for the hits topic, read back by the
// alert evaluator. Measures both with yuqing's code (hand-made writer, simdjson reader)
// against nlohmann::json doing the same (the object model yuqing used before), in the same
// run, on events made from the benchmark corpus (the first 120 bytes of a message as the
// excerpt, one rule, every third event two), and checks that both write the same text.
//
// Then the evaluator on a spread rule (distinct authors in a one-hour window) fed N/10 hits,
// ten a second from 5,000 authors, against a reference that counts the window's distinct
// authors by scanning it at every hit (what the evaluator did before): time per hit, and
// both must fire at the same hit.
//
// Usage: events_bench DATA_DIR [--events N]
#include <chrono>
#include <set>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerting/alert.h"
#include "alerting/evaluator.h"
#include "tests/bench/corpus.h"

using namespace yuqing;
using steady = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// The baseline: what hit_event::to_json / from_json did with nlohmann.
std::string to_json_nlohmann(const alerting::hit_event& e) {
  json rs = json::array();
  for (const auto& r : e.rules)
    rs.push_back({{"rule", r.rule}, {"severity", common::to_string(r.level)}, {"excerpt", r.excerpt}});
  return json{{"topic", e.topic},         {"set", e.set_id},       {"set_version", e.set_version},
              {"plan_item", e.plan_item}, {"message_key", e.message_key}, {"time_ms", e.time_ms},
              {"author", e.author},       {"source", e.source},    {"channel", e.channel},
              {"title", e.title},         {"rules", rs}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

size_t from_json_nlohmann(const std::string& text) {
  const auto j = json::parse(text);
  alerting::hit_event e;
  e.topic = j.at("topic");
  e.set_id = j.at("set");
  e.set_version = j.value("set_version", "");
  e.plan_item = j.value("plan_item", 0);
  e.message_key = j.at("message_key");
  e.time_ms = j.at("time_ms");
  e.author = j.value("author", "");
  e.source = j.value("source", "");
  e.channel = j.value("channel", "");
  e.title = j.value("title", "");
  for (const auto& r : j.at("rules")) {
    const std::string sev = r.value("severity", "warning");
    e.rules.push_back({r.at("rule"),
                       common::parse_severity(sev).value_or(common::severity::warning),
                       r.value("excerpt", "")});
  }
  return e.rules.size();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--events N]\n", argv[0]);
    return 2;
  }
  size_t n = 100000;
  for (int i = 2; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--events") n = std::stoul(argv[i + 1]);
  const bench::lines_file corpus(std::string(argv[1]) + "/corpus.txt");
  std::vector<alerting::hit_event> events;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view text = corpus.lines[i % corpus.lines.size()];
    alerting::hit_event e;
    e.topic = "涉稳";
    e.set_id = "bench";
    e.set_version = "3f2a9c0d11aa";
    e.plan_item = 3;
    e.message_key = "bench.posts/b" + std::to_string(i);
    e.time_ms = 1764300000000 + static_cast<int64_t>(i);
    e.author = "user" + std::to_string(i % 977);
    e.source = "weibo";
    e.channel = "posts";
    size_t cut = std::min<size_t>(text.size(), 120);  // at a character's start, as highlight() cuts
    while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    const std::string excerpt = "…" + std::string(text.substr(0, cut)) + "…";
    e.rules.push_back({"words", common::severity::warning, excerpt});
    if (i % 3 == 0) e.rules.push_back({"w" + std::to_string(i % 200), common::severity::critical, excerpt});
    events.push_back(std::move(e));
  }

  std::vector<std::string> ours(n), theirs(n);
  size_t bytes = 0, same = 0, sink = 0;
  auto t0 = steady::now();
  for (size_t i = 0; i < n; ++i) ours[i] = events[i].to_json();
  const double write_ours = seconds_since(t0);
  t0 = steady::now();
  for (size_t i = 0; i < n; ++i) theirs[i] = to_json_nlohmann(events[i]);
  const double write_theirs = seconds_since(t0);
  for (size_t i = 0; i < n; ++i) {
    bytes += ours[i].size();
    same += ours[i] == theirs[i];
  }
  t0 = steady::now();
  for (const auto& s : ours) {
    const auto e = alerting::hit_event::from_json(s);
    sink += e ? e->rules.size() : 0;
  }
  const double read_ours = seconds_since(t0);
  t0 = steady::now();
  for (const auto& s : ours) sink += from_json_nlohmann(s);
  const double read_theirs = seconds_since(t0);

  const double k = 1e6 / static_cast<double>(n);
  std::printf("%zu hit events, %.0f bytes each on average; identical text: %zu of %zu\n", n,
              static_cast<double>(bytes) / static_cast<double>(n), same, n);
  std::printf("  write  yuqing %6.2f us/event   nlohmann %6.2f us/event   %.1fx faster\n",
              write_ours * k, write_theirs * k, write_theirs / write_ours);
  std::printf("  read   yuqing %6.2f us/event   nlohmann %6.2f us/event   %.1fx faster   (%zu)\n",
              read_ours * k, read_theirs * k, read_theirs / read_ours, sink);

  // The evaluator on a spread rule.
  const size_t hits = n / 10;
  alerting::alert_rule spread;
  spread.id = "spread";
  spread.kind = "spread";
  spread.window_ms = 3600 * 1000;
  spread.count = 4000;  // distinct authors
  spread.level = alerting::alert_level::yellow;
  const std::vector<alerting::alert_rule> rules = {spread};
  auto author = [](size_t i) { return "user" + std::to_string((i * 7919) % 5000); };
  auto time_of = [](size_t i) { return int64_t{1764300000000} + static_cast<int64_t>(i) * 100; };
  alerting::evaluator ev({});
  long fired = -1;
  t0 = steady::now();
  for (size_t i = 0; i < hits; ++i) {
    alerting::hit_event e = events[i];
    e.time_ms = time_of(i);
    e.author = author(i);
    for (const auto& note : ev.on_hit(e, rules, e.time_ms))
      if (note.why == alerting::reason::fired && fired < 0) fired = static_cast<long>(i);
  }
  const double ev_s = seconds_since(t0);
  long reference = -1;
  t0 = steady::now();
  for (size_t i = 0; i < hits && reference < 0; ++i) {
    std::set<std::string> who;
    for (size_t j = 0; j <= i; ++j)
      if (time_of(j) > time_of(i) - spread.window_ms) who.insert(author(j));
    if (who.size() >= spread.count) reference = static_cast<long>(i);
  }
  const double ref_s = seconds_since(t0);
  const size_t ref_hits = reference < 0 ? hits : static_cast<size_t>(reference) + 1;
  std::printf("spread rule, one-hour window, %zu hits from 5,000 authors, fires at 4,000 distinct\n", hits);
  std::printf("  evaluator %8.2f us/hit   scan of the window at every hit %8.2f us/hit   %.0fx faster\n",
              ev_s * 1e6 / static_cast<double>(hits), ref_s * 1e6 / static_cast<double>(ref_hits),
              (ref_s / static_cast<double>(ref_hits)) / (ev_s / static_cast<double>(hits)));
  std::printf("  fired at hit %ld, the reference at hit %ld: %s\n", fired, reference,
              fired == reference ? "same" : "DIFFERENT");
  return same == n && fired == reference ? 0 : 1;
}
