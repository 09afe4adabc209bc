// yuqing::precision: verdicts across restart and replay, precision arithmetic (Wilson),
// suggested exclusions on a synthetic stream, and the API's refusals of bad input.
#include <openssl/sha.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/clock.h"
#include "http/client.h"
#include "http/server.h"
#include "sets/keyword_sets.h"
#include "metrics/registry.h"
#include "sets/probe.h"
#include "daemon/routes_precision.h"
#include "precision/precision.h"
#include "precision/suggest.h"
#include "precision/verdicts.h"
#include "storage/store.h"
#include "tests/support/process.h"

using namespace yuqing;
using nlohmann::json;
namespace fs = std::filesystem;
namespace pr = yuqing::precision;
using yuqing::testing::temp_dir;

namespace {

// The set of the synthetic stream: 苹果 the fruit; 苹果手机 are its false hits.
const char* const fruit_set = R"(id: fruit
name: 水果价格
topic: prices
precision_threshold: 0.8
precision_min_judged: 4
rules:
  - id: apple
    any: [苹果]
  - id: pear
    any: [鸭梨]
)";

// Matches `text` with the set and stores the message and its hits (as ingest would).
struct stream {
  explicit stream(std::shared_ptr<const matchers::compiled_set> s) : set(std::move(s)) {}
  std::shared_ptr<const matchers::compiled_set> set;
  storage::batch b;
  int n = 0;
  std::string add(const std::string& text, int64_t t) {
    storage::message_record m;
    m.key = "posts/" + std::to_string(++n);
    m.time_ms = t;
    m.url = "https://example.cn/p/" + std::to_string(n);
    m.text = {{"content", text}};
    std::vector<matchers::hit> found;
    set->match({text}, found);
    for (const auto& h : found) {
      storage::hit_record r;
      r.topic = std::string(h.topic);
      r.time_ms = t;
      r.message_key = m.key;
      r.set_id = std::string(h.set_id);
      r.set_version = std::string(h.set_version);
      r.rule_id = std::string(h.rule_id);
      for (const auto& s : h.spans) r.spans.push_back({"content", s.begin, s.end, text.substr(s.begin, s.end - s.begin)});
      b.hits.push_back(std::move(r));
    }
    b.messages.push_back(std::move(m));
    return b.messages.back().key;
  }
};

std::shared_ptr<const matchers::compiled_set> compile(const std::string& yaml) {
  auto parsed = matchers::parse_keyword_set(yaml, "fruit.yaml");
  REQUIRE(parsed.ok());
  auto c = matchers::compiled_set::compile(*parsed.set);
  REQUIRE(c.ok());
  return c.set;
}

pr::verdict_entry entry(pr::verdict v) { return {v, "李四（研判室）", "", 1000, ""}; }

storage::hit_record hit_of(const storage::batch& b, const std::string& key, const std::string& rule = "apple") {
  for (const auto& h : b.hits)
    if (h.message_key == key && h.rule_id == rule) return h;
  FAIL("no hit of " << key);
  return {};
}

}  // namespace

TEST_CASE("precision: a verdict survives a restart and a replay of its message", "[precision]") {
  temp_dir dir;
  stream s{compile(fruit_set)};
  const auto key = s.add("今年苹果手机降价", 5000);
  const auto h = hit_of(s.b, key);
  {
    auto st = storage::store::open({dir.path, true, false});
    REQUIRE(st.ok());
    REQUIRE((*st)->write(s.b).ok());
    pr::verdict_book book(**st);
    REQUIRE(book.record(h, entry(pr::verdict::relevant)).ok());
    REQUIRE(book.record(h, entry(pr::verdict::false_hit)).ok());  // changed: the history keeps both
  }
  auto st = storage::store::open({dir.path, true, false});
  REQUIRE(st.ok());
  REQUIRE((*st)->write(s.b).ok());  // the same message replayed: the same hit keys rewritten
  pr::verdict_book book(**st);
  auto v = book.find(pr::hit_id(h));
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  CHECK((*v)->current.what == pr::verdict::false_hit);
  CHECK((*v)->current.who == "李四（研判室）");
  CHECK((*v)->history.size() == 2);
  auto counts = book.counts();  // what yuqing_rule_verdicts_total starts from after a restart
  REQUIRE(counts.ok());
  CHECK(counts->at({"fruit", "apple", "false"}) == 1);
  CHECK(counts->at({"fruit", "apple", "relevant"}) == 1);
  auto rep = pr::compute_precision(**st, book, {});
  REQUIRE(rep.ok());
  REQUIRE(rep->rules.size() == 1);
  CHECK(rep->rules[0].hits == 1);
  CHECK(rep->rules[0].false_hits == 1);
}

TEST_CASE("precision: hit ids read back whatever the message key holds", "[precision]") {
  const auto id = pr::hit_id("s", "r|1%", "posts/a|b%7C");
  const auto ref = pr::parse_hit_id(id);
  REQUIRE(ref);
  CHECK(ref->set == "s");
  CHECK(ref->rule == "r|1%");
  CHECK(ref->message_key == "posts/a|b%7C");
  CHECK_FALSE(pr::parse_hit_id("no-bars"));
  CHECK_FALSE(pr::parse_hit_id("s|r|k|extra"));
  CHECK_FALSE(pr::parse_hit_id("s|r|bad%zz"));
}

TEST_CASE("precision: Wilson intervals match the published values", "[precision]") {
  const auto a = pr::wilson(8, 10);
  CHECK(a.low == Approx(0.4902).margin(0.0001));
  CHECK(a.high == Approx(0.9433).margin(0.0001));
  const auto none = pr::wilson(0, 10);
  CHECK(none.low == 0);
  CHECK(none.high == Approx(0.2775).margin(0.0001));
  const auto all = pr::wilson(10, 10);
  CHECK(all.low == Approx(0.7225).margin(0.0001));
  CHECK(all.high == Approx(1.0));
  const auto big = pr::wilson(81, 263);  // worked by hand: 0.308 [0.2553, 0.3662]
  CHECK(big.low == Approx(0.2553).margin(0.0005));
  CHECK(big.high == Approx(0.3662).margin(0.0005));
  CHECK(pr::wilson(0, 0).low == 0);
  CHECK(pr::wilson(0, 0).high == 1);
}

TEST_CASE("precision: per rule and version, undetermined counts as judged but not in precision", "[precision]") {
  temp_dir dir;
  stream s{compile(fruit_set)};
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) keys.push_back(s.add("苹果第" + std::to_string(i) + "批", 1000 + i));
  s.add("鸭梨上市", 2000);
  auto st = storage::store::open({dir.path, true, false});
  REQUIRE(st.ok());
  REQUIRE((*st)->write(s.b).ok());
  pr::verdict_book book(**st);
  const pr::verdict given[] = {pr::verdict::relevant, pr::verdict::relevant, pr::verdict::relevant,
                               pr::verdict::false_hit, pr::verdict::undetermined};
  for (size_t i = 0; i < 5; ++i) REQUIRE(book.record(hit_of(s.b, keys[i]), entry(given[i])).ok());
  auto rep = pr::compute_precision(**st, book, {});
  REQUIRE(rep.ok());
  REQUIRE(rep->rules.size() == 2);
  const auto& apple = rep->rules[0];  // the one with a false hit first
  CHECK(apple.rule == "apple");
  CHECK(apple.hits == 7);
  CHECK(apple.judged == 5);
  CHECK(apple.relevant == 3);
  CHECK(apple.false_hits == 1);
  CHECK(apple.undetermined == 1);
  CHECK(*apple.precision() == Approx(0.75));
  CHECK_FALSE(rep->rules[1].precision());
  REQUIRE(rep->versions.size() == 2);
  CHECK(rep->versions[0].set_version == s.set->definition().version);
  pr::precision_query q;
  q.from_ms = 1003;  // a period: the hits at 1003..1006 and 2000
  rep = pr::compute_precision(**st, book, q);
  REQUIRE(rep.ok());
  CHECK(rep->rules[0].hits == 4);
  CHECK(rep->rules[0].judged == 2);
  // The threshold of the set: 3 of 4 is under 0.8, with 4 judged (the minimum).
  const auto all = book.all();
  const auto r = pr::rule_verdicts(*all, "fruit", "apple");
  CHECK(pr::needs_tuning(r, {0.8, 4}));
  CHECK_FALSE(pr::needs_tuning(r, {0.8, 5}));
  CHECK_FALSE(pr::needs_tuning(r, {0.7, 4}));
}

TEST_CASE("precision: a context word that causes every false hit is the first suggestion, with its exact counts", "[precision]") {
  temp_dir dir;
  stream s{compile(fruit_set)};
  const char* const phones[] = {"苹果手机降价", "新款苹果手机上市", "苹果手机发布会", "二手苹果手机回收",
                                "苹果手机维修点", "买了苹果手机", "苹果手机屏幕碎了", "苹果手机续航",
                                "苹果手机跌价", "国产与苹果手机之争"};
  const char* const fruit[] = {"苹果价格上涨", "红富士苹果丰收", "苹果园采摘", "今年苹果减产", "苹果批发市场", "烟台苹果"};
  std::vector<std::string> false_keys, relevant_keys;
  for (const char* t : phones) false_keys.push_back(s.add(t, 1000));
  for (const char* t : fruit) relevant_keys.push_back(s.add(t, 1000));
  for (const char* t : {"苹果手机换新", "苹果手机以旧换新", "苹果手机排队"}) s.add(t, 1000);  // not judged
  for (const char* t : {"苹果汁", "苹果醋"}) s.add(t, 1000);                            // not judged
  auto st = storage::store::open({dir.path, true, false});
  REQUIRE(st.ok());
  REQUIRE((*st)->write(s.b).ok());
  pr::verdict_book book(**st);
  for (const auto& k : false_keys) REQUIRE(book.record(hit_of(s.b, k), entry(pr::verdict::false_hit)).ok());
  for (const auto& k : relevant_keys) REQUIRE(book.record(hit_of(s.b, k), entry(pr::verdict::relevant)).ok());

  auto res = pr::suggest(**st, book, *s.set, "apple", {});
  REQUIRE(res.ok());
  CHECK(res->judged_false == 10);
  CHECK(res->judged_relevant == 6);
  REQUIRE_FALSE(res->suggestions.empty());
  const auto& top = res->suggestions[0];
  CHECK(top.kind == "none");
  CHECK(top.text == "手机");
  CHECK(top.false_with == 10);
  CHECK(top.relevant_with == 0);
  CHECK(top.so == 1.0);
  CHECK(top.score == 1.0);
  REQUIRE(top.measured);
  CHECK(top.hits_scanned == 21);
  CHECK(top.false_removed == 10);
  CHECK(top.relevant_lost == 0);
  CHECK(top.undetermined_removed == 3);
  CHECK(top.hits_removed == 13);
  // Suggestions with the same judged hits covered are shown once: the rest cover others.
  for (size_t i = 1; i < res->suggestions.size(); ++i) CHECK(res->suggestions[i].false_with < 10);

  // Applied to the set file: a new version that no longer hits the phones, still the fruit.
  const auto file = dir.path / "fruit.yaml";
  std::ofstream(file) << "# the fruit prices\n" << fruit_set;
  auto applied = pr::apply_suggestion(file, top);
  REQUIRE(applied.ok());
  CHECK(applied->find("# the fruit prices") != std::string::npos);  // comments stay
  auto after = matchers::compiled_set::load(file);
  REQUIRE(after.ok());
  CHECK(after.set->definition().version != s.set->definition().version);
  std::vector<matchers::hit> found;
  after.set->match({"苹果手机降价"}, found);
  CHECK(found.empty());
  after.set->match({"苹果价格上涨"}, found);
  CHECK(found.size() == 1);
}

TEST_CASE("precision: an allow suggestion goes into the set's allow list, flow or block", "[precision]") {
  temp_dir dir;
  pr::suggestion s;
  s.kind = "allow";
  s.text = "苹果手机";
  s.set = "fruit";
  s.rule = "apple";
  const auto file = dir.path / "fruit.yaml";
  std::ofstream(file) << fruit_set;
  REQUIRE(pr::apply_suggestion(file, s).ok());  // no allow list yet: one is added
  s.text = "苹果电脑";
  auto twice = pr::apply_suggestion(file, s);  // a flow list now: appended
  REQUIRE(twice.ok());
  CHECK(twice->find(R"(allow: ["苹果手机", "苹果电脑"])") != std::string::npos);
  std::ofstream(file) << "id: fruit\nallow:\n  - 果汁\nrules:\n  - id: apple\n    any: [苹果]\n";
  auto block = pr::apply_suggestion(file, s);
  REQUIRE(block.ok());
  CHECK(block->find("  - 果汁\n  - \"苹果电脑\"\n") != std::string::npos);
  s.kind = "none";
  s.rule = "nosuch";
  CHECK_FALSE(pr::apply_suggestion(file, s).ok());
}

namespace {

std::string sha256_hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  char b[3];
  for (unsigned char c : d) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

// The precision routes on a store with the synthetic stream, behind people's tokens.
struct api_fixture {
  temp_dir dir;
  stream s;
  std::unique_ptr<storage::store> store;
  system_clock clk;
  metrics::registry registry;
  sets::probe probe{registry};
  std::unique_ptr<sets::keyword_sets> sets;
  std::unique_ptr<daemon::precision_api> api;
  http::http_server http;
  std::string key;
  api_fixture() : s{compile(fruit_set)} {
    key = s.add("苹果手机降价", 1000);
    store = std::move(storage::store::open({dir.path / "db", true, false}).value());
    REQUIRE(store->write(s.b).ok());
    fs::create_directories(dir.path / "sets");
    std::ofstream(dir.path / "sets" / "fruit.yaml") << fruit_set;
    sets = std::make_unique<sets::keyword_sets>(sets::keyword_sets_options{dir.path / "sets", "", 300, false, 0},
                                                  store.get(), probe, clk);
    sets->load("test");
    api = std::make_unique<daemon::precision_api>(*store, *sets, nullptr, registry);
    http.set_people({{"李四", "研判室", "analyst", sha256_hex("analyst-token")},
                     {"王五", "指挥中心", "officer", sha256_hex("officer-token")}});
    api->add_routes(http);
  }
  http::http_response post(const std::string& path, const std::string& body, const std::string& token) {
    std::string raw = "POST " + path + " HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
    return http.serve(raw + "\r\n" + body);
  }
  http::http_response get(const std::string& target) { return http.serve("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n"); }
};

}  // namespace

TEST_CASE("precision API: bad input gets a 4xx naming it and changes nothing", "[precision]") {
  api_fixture f;
  const std::string path = "/api/v1/hits/" + http::url_encode(pr::hit_id("fruit", "apple", f.key)) + "/verdict";
  const std::string good = R"({"verdict":"误报","note":"说的是手机"})";
  CHECK(f.post(path, good, "").status == 401);                    // missing token
  CHECK(f.post(path, good, "officer-token").status == 403);       // wrong role
  CHECK(f.post(path, good, "nobody").status == 401);              // unknown token
  auto r = f.post("/api/v1/hits/fruit%7Capple%7Cposts%2F999/verdict", good, "analyst-token");
  CHECK(r.status == 404);
  CHECK(r.body.find("unknown hit id") != std::string::npos);
  r = f.post("/api/v1/hits/not-an-id/verdict", good, "analyst-token");
  CHECK(r.status == 400);
  CHECK(r.body.find("id:") != std::string::npos);
  r = f.post(path, R"({"verdict":"maybe"})", "analyst-token");
  CHECK(r.status == 400);
  CHECK(r.body.find("verdict:") != std::string::npos);
  r = f.post(path, json{{"verdict", "false"}, {"note", std::string(2000, 'x')}}.dump(), "analyst-token");
  CHECK(r.status == 400);
  CHECK(r.body.find("note:") != std::string::npos);
  r = f.post(path, R"({"verdict":"false","color":"red"})", "analyst-token");
  CHECK(r.status == 400);
  CHECK(r.body.find("color:") != std::string::npos);
  CHECK(f.post("/api/v1/alerts/nosuch/verdict", good, "analyst-token").status == 404);
  CHECK(f.get("/api/v1/precision?sett=fruit").status == 400);
  CHECK(f.get("/api/v1/precision?from=yesterday").status == 400);
  CHECK(f.get("/api/v1/suggestions?set=fruit").status == 400);
  CHECK(f.get("/api/v1/suggestions?set=fruit&rule=nosuch").status == 404);
  pr::verdict_book book(*f.store);
  CHECK(book.all()->empty());  // nothing was written
  CHECK(f.registry.expose().find("yuqing_rule_verdicts_total{") == std::string::npos);

  r = f.post(path, good, "analyst-token");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["current"]["who"] == "李四（研判室）");
  CHECK(f.get(path).status == 200);
  CHECK(f.registry.expose().find(R"(yuqing_rule_verdicts_total{set="fruit",rule="apple",verdict="false"} 1)") !=
        std::string::npos);
  const auto p = json::parse(f.get("/api/v1/precision?set=fruit").body);
  CHECK(p["rules"][0]["false"] == 1);
  CHECK(p["rules"][0]["precision"] == 0.0);
}
