// Ingest and storage under crashes, rebalances (one restart, and a storm of joins and
// leaves), broker outages, a slow broker, SIGTERM in the middle of a stream, bad input,
// offsets the broker deleted unread, a new embedded cluster and repeated ids. The Kafka
// cluster runs in a helper process (yuqingctl broker) so that it outlives the daemons;
// kcat produces as an outside client. Each test checks the store itself: every expected
// hit exactly once.
#include <signal.h>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include <random>
#include <thread>

#include "storage/store.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const set_yaml = "id: stream\ntopic: incident\nrules:\n  - {id: outbreak, any: [疫情]}\n";

// dir/sets with the one set every test here matches with.
void write_stream_set(const fs::path& dir) {
  fs::create_directories(dir / "sets");
  write_file(dir / "sets" / "stream.yaml", set_yaml);
}

// The config head of a daemon on its embedded broker with one partition of posts.
const char* const embedded_one_partition =
    "kafka: {embedded: {partitions: 1}}\nchannels:\n  - {name: posts, topic: yuqing.posts}\n";

// What most tests here start from: a test directory with the stream set, and a standalone
// broker (four partitions of the posts and dead-letter topics; rtt_ms > 0: a slow one).
struct stream_rig {
  explicit stream_rig(int rtt_ms = 0) : broker(dir.path, {"yuqing.posts", "yuqing.deadletter"}, 4, rtt_ms) {
    write_stream_set(dir.path);
  }
  temp_dir dir;
  broker_process broker;
};

// Messages m<from>..m<to-1>, one JSON line each; every 7th mentions 疫情. Returns the
// hits they must produce, as stored_hits() lists them.
std::multiset<std::string> write_stream(const fs::path& file, int from, int to) {
  std::string lines;
  std::multiset<std::string> expected;
  for (int i = from; i < to; ++i) {
    const bool hit = i % 7 == 0;
    lines += "{\"id\":\"m" + std::to_string(i) + "\",\"content\":\"" +
             (hit ? "江门疫情通报第" : "今天天气晴第") + std::to_string(i) + "条\"}\n";
    if (hit) expected.insert("yuqing.posts/m" + std::to_string(i) + " outbreak");
  }
  write_file(file, lines);
  return expected;
}

// A steady stream from a background shell: `chunks` chunks of `per_chunk` messages, one
// every `pause` seconds, produced with kcat. Their hits are added to `expected`.
child steady_stream(const fs::path& dir, const broker_process& broker, int chunks, int per_chunk,
                    const std::string& pause, std::multiset<std::string>& expected) {
  std::string script = "set -e\n";
  for (int c = 0; c < chunks; ++c) {
    const auto chunk = dir / ("chunk" + std::to_string(c));
    const auto e = write_stream(chunk, c * per_chunk, (c + 1) * per_chunk);
    expected.insert(e.begin(), e.end());
    // The pause paces the stream (the case under test is a stream that lasts), no wait.
    script += "kcat -P -b " + broker.bootstrap() + " -t yuqing.posts -l " + chunk.string() + "\nsleep " + pause + "\n";
  }
  write_file(dir / "produce.sh", script);
  return child({"/bin/sh", (dir / "produce.sh").string()}, dir / "producer.log");
}

// `timeouts`: the session and heartbeat properties, "k: v, k: v".
std::string config_head(const std::string& bootstrap, int batch,
                        const std::string& timeouts = "session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\"") {
  return kafka_head(bootstrap, "  group_id: itest\n", timeouts) +
         "channels:\n  - {name: posts, topic: yuqing.posts}\n"
         "ingest: {batch_max_messages: " + std::to_string(batch) + ", batch_max_wait_ms: 20}\n";
}

// Starts `d` again, waits until it has stored all `total` messages of the 4 partitions of
// yuqing.posts, stops it and checks that it holds every expected hit exactly once (and
// that no offset gap was reported).
void finish_stream(daemon_process& d, int total, const std::multiset<std::string>& expected) {
  d.start();
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) == total; }, 120s));
  REQUIRE(d.stop() == 0);
  CHECK(hit_difference(stored_hits(d.data()), expected) == "");
  CHECK(d.log().find("event=messages_lost") == std::string::npos);  // no false gap
}

// The progress of a topic's partitions over several daemons' stores: per partition, the
// largest stored next offset.
int64_t stored_by_any(const std::vector<const daemon_process*>& daemons, int partitions) {
  int64_t sum = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t best = 0;
    for (const auto* d : daemons)
      best = std::max(best, stored_offsets(d->data(), "yuqing.posts", p + 1) - stored_offsets(d->data(), "yuqing.posts", p));
    sum += best;
  }
  return sum;
}

// The next offset of one partition of yuqing.posts in a store (-1 when none is stored).
int64_t storage_offset(const fs::path& data, int partition) {
  auto s = yuqing::storage::store::open({data, false, true});
  REQUIRE(s);
  const auto v = (*s)->next_offset("yuqing.posts", partition);
  return v && v->has_value() ? **v : -1;
}

// The offsets the group has committed to Kafka for yuqing.posts (-1 where none).
std::vector<int64_t> committed_offsets(const std::string& bootstrap, const std::string& group, int partitions) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(rk);
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, "yuqing.posts", p);
  std::vector<int64_t> out(static_cast<size_t>(partitions), -1);
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < list->cnt; ++i)  // RD_KAFKA_OFFSET_INVALID where the group has none
      out[static_cast<size_t>(list->elems[i].partition)] = std::max<int64_t>(-1, list->elems[i].offset);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace

TEST_CASE("kill -9 at random points loses no hit and stores none twice", "[integration][crash]") {
  stream_rig rig;
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  // A short session timeout: the group notices a killed member sooner (the mock cluster
  // waits for it before it assigns the partitions to the restarted daemon).
  daemon_process d(dir.path / "d",
                   config_head(broker.bootstrap(), 100, "session.timeout.ms: \"3000\", heartbeat.interval.ms: \"300\""),
                   dir.path / "sets");

  // A steady stream: 80 chunks of 500 messages, one every ~0.5 s.
  const int chunks = 80, per_chunk = 500, total = chunks * per_chunk;
  std::multiset<std::string> expected;
  child producer = steady_stream(dir.path, broker, chunks, per_chunk, "0.4", expected);

  std::mt19937 rng(Catch::rngSeed());
  // Kill at random points while the stream lasts (at most 6 times). The last kill may land
  // after the last message was stored (the stream ends while the daemon starts): only the
  // kills that interrupted the stream count.
  int kills = 0, mid_stream = 0;
  for (; kills < 6 && producer.wait(0ms) == -1; ++kills) {
    d.start();
    // A random moment of the stream to crash at: the time drawn is the case under test.
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 2000));
    d.kill9();
    const auto stored = stored_offsets(d.data(), "yuqing.posts", 4);
    INFO("kill " << kills << ": " << stored << " of " << total << " stored");
    if (stored < total) ++mid_stream;
  }
  CHECK(mid_stream >= 3);
  REQUIRE(producer.wait(120s) == 0);
  finish_stream(d, total, expected);
}

TEST_CASE("two daemons in one group, one restarted mid-stream: every hit once in the union",
          "[integration][rebalance]") {
  stream_rig rig;
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  daemon_process a(dir.path / "a", config_head(broker.bootstrap(), 200), dir.path / "sets");
  daemon_process b(dir.path / "b", config_head(broker.bootstrap(), 200), dir.path / "sets");
  a.start();
  b.start();

  std::multiset<std::string> expected;
  const int chunks = 6, per_chunk = 5000;
  for (int c = 0; c < chunks; ++c) {
    const auto chunk = dir.path / ("chunk" + std::to_string(c));
    const auto e = write_stream(chunk, c * per_chunk, (c + 1) * per_chunk);
    expected.insert(e.begin(), e.end());
    REQUIRE(broker.produce("yuqing.posts", chunk) == 0);
    if (c == 1) REQUIRE(b.stop() == 0);  // a takes every partition
    if (c == 3) b.start();               // and gives some back
  }
  auto both_stored = [&] {
    // A partition's progress is the larger of the two stores' offsets.
    int64_t sum = 0;
    for (int p = 0; p < 4; ++p) {
      auto one = [&](const daemon_process& d) {
        return stored_offsets(d.data(), "yuqing.posts", p + 1) - stored_offsets(d.data(), "yuqing.posts", p);
      };
      sum += std::max(one(a), one(b));
    }
    return sum;
  };
  REQUIRE(eventually([&] { return both_stored() == chunks * per_chunk; }, 120s));
  REQUIRE(a.stop() == 0);
  REQUIRE(b.stop() == 0);
  auto got = stored_hits(a.data());
  const auto from_b = stored_hits(b.data());
  CHECK(!got.empty());
  CHECK(!from_b.empty());
  got.insert(from_b.begin(), from_b.end());
  CHECK(hit_difference(got, expected) == "");
}

TEST_CASE("a broker outage pauses ingest, which resumes where it stopped", "[integration][outage]") {
  stream_rig rig;
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  daemon_process d(dir.path / "d", config_head(broker.bootstrap(), 200), dir.path / "sets");
  d.start();

  auto expected = write_stream(dir.path / "before", 0, 10000);
  REQUIRE(broker.produce("yuqing.posts", dir.path / "before") == 0);
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) > 0; }, 60s));

  const size_t kafka_logs = occurrences(d.log(), "event=kafka_log");
  broker.set_up(false);
  // Messages sent during the outage wait in the producer's queue and arrive after it (kcat
  // gives up when every broker is down; yuqingctl produce waits).
  const auto during = write_stream(dir.path / "during", 10000, 20000);
  expected.insert(during.begin(), during.end());
  child producer({YUQINGCTL, "produce", "--brokers", broker.bootstrap(), "--topic", "yuqing.posts",
                  (dir.path / "during").string()},
                 dir.path / "producer.log");
  // The daemon notices the brokers are gone (and logs it) ...
  REQUIRE(eventually([&] { return occurrences(d.log(), "event=kafka_log") > kafka_logs; }, 60s));
  CHECK(producer.wait(0ms) == -1);  // ... and the outage is real: nothing could be delivered
  CHECK(d.status()["ready"].is_boolean());  // still serving while the brokers are away
  const auto stored_while_down = stored_offsets(d.data(), "yuqing.posts", 4);
  broker.set_up(true);

  REQUIRE(producer.wait(120s) == 0);
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) == 20000; }, 120s));
  CHECK(stored_while_down <= 10000);  // nothing produced during the outage was stored in it
  REQUIRE(d.stop() == 0);
  CHECK(hit_difference(stored_hits(d.data()), expected) == "");
  CHECK(d.log().find("event=kafka_log") != std::string::npos);  // the outage was logged
}

TEST_CASE("SIGTERM while every broker is down: the daemon stops, and after the outage a restart goes on",
          "[integration][outage]") {
  stream_rig rig;
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  daemon_process d(dir.path / "d", config_head(broker.bootstrap(), 200), dir.path / "sets");
  d.start();
  const int total = 40000;
  const auto expected = write_stream(dir.path / "stream", 0, total);
  REQUIRE(broker.produce("yuqing.posts", dir.path / "stream") == 0);
  // The brokers go while the daemon is still consuming the backlog.
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) > 0; }, 60s));
  broker.set_up(false);
  const auto stored = stored_offsets(d.data(), "yuqing.posts", 4);
  INFO(stored << " of " << total << " stored when the brokers went");
  CHECK(stored < total);  // a batch was still on its way
  // Its commits and deliveries cannot be answered: each wait is bounded, so it exits
  // (stop() gives it 60 s) instead of waiting for a coordinator without end.
  REQUIRE(d.stop() == 0);
  CHECK(d.log().find("event=ingest_stopped") != std::string::npos);

  broker.set_up(true);
  finish_stream(d, total, expected);
}

TEST_CASE("bad input from kcat is dead-lettered with its reason, neighbours still match",
          "[integration][badinput]") {
  temp_dir dir;
  write_stream_set(dir.path);
  daemon_process d(dir.path, embedded_one_partition,
                   dir.path / "sets");
  const auto bootstrap = d.start();

  // key \x1f value \x1e: values may hold newlines and NULs, and an empty value is sent
  // (kcat skips empty messages but not a key with an empty value).
  // 4 MB, not 10: librdkafka's mock cluster keeps at most 5 MB per partition and drops a
  // larger message as soon as it is appended (its log start moves past it).
  const std::string big = "{\"id\":\"big\",\"content\":\"" + std::string(4 << 20, 'a') + "疫情\"}";
  const std::string binary("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0", 20);
  const std::vector<std::pair<std::string, std::string>> messages = {
      {"ok1", R"({"id":"ok1","content":"疫情一"})"},
      {"bad-json", R"({"id":"bad-json","content":"疫情)"},
      {"bad-utf8", "{\"id\":\"bad-utf8\",\"content\":\"\xff\xfe疫情\"}"},
      {"binary", binary},
      {"empty", ""},
      {"big", big},
      {"no-text", R"({"id":"no-text","views":3})"},
      {"ok2", "{\"id\":\"ok2\",\n\"content\":\"第二条疫情\"}"},
  };
  // In parts: the big message would push its unread neighbours out of the mock's log. -Z sends an empty value as NULL.
  auto send = [&](size_t from, size_t to, const std::string& flags = "") {
    std::string file;
    for (size_t i = from; i < to; ++i) file += messages[i].first + "\x1f" + messages[i].second + "\x1e";
    write_file(dir.path / "bad.bin", file);
    const auto [rc, out] = shell("kcat -P -b " + bootstrap +
                                 " -t yuqing.posts -K '\\x1f' -D '\\x1e' -X message.max.bytes=20000000 " +
                                 flags + " < " + (dir.path / "bad.bin").string() + " 2>&1");
    INFO(out);
    REQUIRE(rc == 0);
  };
  auto consumed = [&](int n) {
    REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == n; }, 60s));
  };
  send(0, 5);
  consumed(5);
  send(5, 6);
  consumed(6);
  send(6, 8);
  send(4, 5, "-Z");  // a NULL value (tombstone)
  consumed(9);

  const auto m = d.metrics();
  for (const auto& [reason, n] : std::vector<std::pair<std::string, int>>{
           {"invalid_json", 1}, {"invalid_utf8", 2}, {"empty", 2}, {"oversize", 1}, {"missing_text", 1}}) {
    INFO(reason);
    CHECK(metric(m, R"(yuqing_messages_invalid_total{channel="posts",reason=")" + reason + "\"}") == n);
  }
  CHECK(metric(m, R"(yuqing_dead_letters_total{channel="posts"})") == 7);
  // Each dead letter: reason, source offset and size (the oversize one truncated, a NULL
  // value stays NULL).
  const auto [rc2, dead] = shell("kcat -C -b " + bootstrap +
                                 " -t yuqing.deadletter -e -q -f '%k|%h|%S\\n' 2>&1");
  REQUIRE(rc2 == 0);
  INFO(dead);
  CHECK(dead.find("bad-json|yuqing.reason=invalid_json,yuqing.channel=posts,yuqing.source=yuqing.posts/0/1,yuqing.truncated=false|") != std::string::npos);
  CHECK(dead.find("bad-utf8|yuqing.reason=invalid_utf8,yuqing.channel=posts,yuqing.source=yuqing.posts/0/2,") != std::string::npos);
  CHECK(dead.find("binary|yuqing.reason=invalid_utf8,yuqing.channel=posts,yuqing.source=yuqing.posts/0/3,yuqing.truncated=false|20\n") != std::string::npos);
  CHECK(dead.find("empty|yuqing.reason=empty,yuqing.channel=posts,yuqing.source=yuqing.posts/0/4,yuqing.truncated=false|0\n") != std::string::npos);
  CHECK(dead.find("big|yuqing.reason=oversize,yuqing.channel=posts,yuqing.source=yuqing.posts/0/5,yuqing.truncated=true|900000\n") != std::string::npos);
  CHECK(dead.find("empty|yuqing.reason=empty,yuqing.channel=posts,yuqing.source=yuqing.posts/0/8,yuqing.truncated=false|-1\n") != std::string::npos);
  CHECK(dead.find("no-text|yuqing.reason=missing_text,yuqing.channel=posts,yuqing.source=yuqing.posts/0/6,") != std::string::npos);
  REQUIRE(d.stop() == 0);
  CHECK(stored_hits(d.data()) == std::multiset<std::string>{"yuqing.posts/ok1 outbreak", "yuqing.posts/ok2 outbreak"});
}

TEST_CASE("a slow broker (every response 150 ms late) slows ingest down but loses nothing",
          "[integration][outage]") {
  stream_rig rig(150);
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  daemon_process d(dir.path / "d", config_head(broker.bootstrap(), 500), dir.path / "sets");
  d.start();
  const auto expected = write_stream(dir.path / "stream", 0, 20000);
  REQUIRE(broker.produce("yuqing.posts", dir.path / "stream") == 0);
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) == 20000; }, 180s));
  CHECK(eventually([&] { return d.status()["counters"]["consumed"] == 20000; }, 10s));
  REQUIRE(d.stop() == 0);
  CHECK(hit_difference(stored_hits(d.data()), expected) == "");
}

TEST_CASE("SIGTERM in the middle of a stream drains, commits what it stored, and a restart goes on",
          "[integration][shutdown]") {
  stream_rig rig;
  const auto& dir = rig.dir;
  auto& broker = rig.broker;
  daemon_process d(dir.path / "d", config_head(broker.bootstrap(), 1000), dir.path / "sets");
  d.start();
  const int total = 60000;
  const auto expected = write_stream(dir.path / "stream", 0, total);
  child producer({YUQINGCTL, "produce", "--brokers", broker.bootstrap(), "--topic", "yuqing.posts",
                  (dir.path / "stream").string()},
                 dir.path / "producer.log");
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 4) > 0; }, 60s));
  REQUIRE(d.stop() == 0);  // SIGTERM while the stream is being consumed
  const auto stored = stored_offsets(d.data(), "yuqing.posts", 4);
  INFO(stored << " of " << total << " stored at SIGTERM");
  CHECK(stored < total);  // it landed in the middle
  CHECK(d.log().find("event=ingest_stopped") != std::string::npos);
  // What was stored is what was committed: the next owner starts right after it.
  const auto committed = committed_offsets(broker.bootstrap(), "itest", 4);
  int64_t committed_sum = 0;
  for (int p = 0; p < 4; ++p) {
    auto s = storage_offset(d.data(), p);
    CHECK(committed[static_cast<size_t>(p)] == s);
    committed_sum += std::max<int64_t>(0, committed[static_cast<size_t>(p)]);
  }
  CHECK(committed_sum == stored);
  REQUIRE(producer.wait(120s) == 0);
  finish_stream(d, total, expected);
}

TEST_CASE("a rebalance storm (members joining and leaving every few seconds): every hit once in the union",
          "[integration][rebalance]") {
  temp_dir dir;
  write_stream_set(dir.path);
  broker_process broker(dir.path, {"yuqing.posts", "yuqing.deadletter"}, 6);
  const std::string head = config_head(broker.bootstrap(), 200, "session.timeout.ms: \"6000\", heartbeat.interval.ms: \"300\"");
  daemon_process a(dir.path / "a", head, dir.path / "sets");
  daemon_process b(dir.path / "b", head, dir.path / "sets");
  daemon_process c(dir.path / "c", head, dir.path / "sets");
  a.start();
  // A steady stream in the background while members come and go.
  const int chunks = 40, per_chunk = 1000, total = chunks * per_chunk;
  std::multiset<std::string> expected;
  child producer = steady_stream(dir.path, broker, chunks, per_chunk, "0.5", expected);
  // Seven membership changes, each a rebalance of the group. A member that starts is
  // waited for until the group has given it partitions; one that stops stays away for a
  // second before the next change: that pace (a storm of changes, each rebalance still
  // running or just over when the next comes) is the case under test, not a wait.
  auto joins = [&](daemon_process& m) {
    const size_t before = occurrences(m.log(), "event=partitions_assigned");
    m.start();
    REQUIRE(eventually([&] { return occurrences(m.log(), "event=partitions_assigned") > before; }, 60s));
  };
  joins(b);
  joins(c);
  REQUIRE(b.stop() == 0);
  std::this_thread::sleep_for(1s);  // the pace of the storm (see above)
  joins(b);
  REQUIRE(c.stop() == 0);
  std::this_thread::sleep_for(1s);  // the pace of the storm
  joins(c);
  REQUIRE(b.stop() == 0);
  REQUIRE(producer.wait(120s) == 0);
  const std::vector<const daemon_process*> all = {&a, &b, &c};
  REQUIRE(eventually([&] { return stored_by_any(all, 6) == total; }, 180s));
  REQUIRE(a.stop() == 0);
  REQUIRE(c.stop() == 0);
  auto got = stored_hits(a.data());
  for (const auto* d : {&b, &c}) {
    const auto more = stored_hits(d->data());
    got.insert(more.begin(), more.end());
  }
  CHECK(hit_difference(got, expected) == "");
  for (const auto* d : all) {
    const auto log = d->log();
    const auto at = log.find("level=error");
    INFO("first error line: " << (at == std::string::npos ? "" : log.substr(log.rfind('\n', at) + 1, 400)));
    CHECK(at == std::string::npos);
  }
  // The member that stayed went through the rebalances: one assignment per change.
  const auto log_a = a.log();
  size_t assignments = 0;
  for (size_t at = 0; (at = log_a.find("event=partitions_assigned", at)) != std::string::npos; ++at) ++assignments;
  CHECK(assignments >= 5);
}

TEST_CASE("a range the broker dropped before it was read is counted, logged and alerted",
          "[integration][lost]") {
  // The embedded broker keeps about 5 MB per partition: while the daemon is away, 6.4 MB
  // push the offsets it stored out of the log, and it resumes past a gap.
  temp_dir dir;
  write_stream_set(dir.path);
  broker_process broker(dir.path, {"yuqing.posts", "yuqing.deadletter", "yuqing.hits", "yuqing.alerts"}, 1);
  daemon_process d(dir.path, config_head(broker.bootstrap(), 100), dir.path / "sets");
  d.start();
  write_stream(dir.path / "first.txt", 0, 20);
  REQUIRE(broker.produce("yuqing.posts", dir.path / "first.txt") == 0);
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 1) == 20; }, 60s));
  REQUIRE(d.stop() == 0);

  std::string flood;
  for (int i = 0; i < 400; ++i)
    flood += "{\"id\":\"f" + std::to_string(i) + "\",\"content\":\"" + std::string(16 << 10, 'x') + "\"}\n";
  write_file(dir.path / "flood.txt", flood);
  REQUIRE(broker.produce("yuqing.posts", dir.path / "flood.txt") == 0);
  d.start();
  REQUIRE(eventually([&] { return stored_offsets(d.data(), "yuqing.posts", 1) == 420; }, 60s));

  const auto lost = metric(d.metrics(), R"(yuqing_messages_lost_total{channel="posts",reason="offset_gap"})");
  CHECK(lost > 0);  // what the broker no longer had, and what it still had, make the 400
  CHECK(d.status()["counters"]["lost"] == lost);
  CHECK(eventually([&] { return lost + d.status()["counters"]["consumed"].get<double>() == 400; }, 10s));
  const auto log = d.log();
  CHECK(log.find("event=messages_lost channel=posts partition=yuqing.posts[0] from=20 ") != std::string::npos);
  REQUIRE(eventually([&] {
    const auto alerts = nlohmann::json::parse(http_get(d.port(), "/api/v1/alerts").body)["alerts"];
    for (const auto& a : alerts)
      if (a["kind"] == "messages_lost" && a["count"] == lost) return true;
    return false;
  }, 30s));
  REQUIRE(d.stop() == 0);
}

TEST_CASE("a new embedded cluster is read from its beginning, not from the offsets of the last one",
          "[integration][lost]") {
  temp_dir dir;
  write_stream_set(dir.path);
  daemon_process d(dir.path, embedded_one_partition,
                   dir.path / "sets");
  write_stream(dir.path / "first.txt", 0, 30);
  const auto [rc, out] = shell("kcat -P -b " + d.start() + " -t yuqing.posts -l " + (dir.path / "first.txt").string() + " 2>&1");
  INFO(out);
  REQUIRE(rc == 0);
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 30; }, 60s));
  REQUIRE(d.stop() == 0);

  // The next start is a new, empty cluster. 50 messages go in as soon as it is up, before
  // the group assigns the partition (seconds later): the stored offset (30) is inside
  // them, and reading from it would skip 30.
  write_stream(dir.path / "second.txt", 100, 150);
  const auto log = (dir.path / "yuqingd.log").string();
  write_file(dir.path / "produce.sh",
             "until [ \"$(grep -c event=embedded_kafka_started " + log + ")\" = 2 ]; do sleep 0.01; done\n"
             "b=$(grep -o 'event=embedded_kafka_started bootstrap=[^ ]*' " + log + " | tail -1 | cut -d= -f3)\n"
             "exec kcat -P -b \"$b\" -t yuqing.posts -l " + (dir.path / "second.txt").string() + "\n");
  child producer({"/bin/sh", (dir.path / "produce.sh").string()}, dir.path / "producer.log");
  d.start();
  REQUIRE(producer.wait(60s) == 0);
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 50; }, 60s));
  CHECK(d.log().find("event=kafka_cluster_changed") != std::string::npos);
  REQUIRE(d.stop() == 0);
  CHECK(stored_offsets(d.data(), "yuqing.posts", 1) == 50);
}

TEST_CASE("content as an array of strings is joined, other types are dead-lettered, a repeated id keeps both versions",
          "[integration][badinput]") {
  temp_dir dir;
  write_stream_set(dir.path);
  daemon_process d(dir.path, embedded_one_partition,
                   dir.path / "sets");
  const auto bootstrap = d.start();
  auto send = [&](const std::string& lines) {
    write_file(dir.path / "in.txt", lines);
    const auto [rc, out] = shell("kcat -P -b " + bootstrap + " -t yuqing.posts -l " + (dir.path / "in.txt").string() + " 2>&1");
    INFO(out);
    REQUIRE(rc == 0);
  };
  // Offsets 0..7, in one batch: the edit (offset 5) and the duplicate (6) are found in it.
  send(R"({"id":"arr","content":["江门","疫情通报"]})" "\n"
       R"({"id":"num","content":42})" "\n"
       R"({"id":"obj","content":{"text":"疫情"}})" "\n"
       R"({"id":"mixed","content":["疫情",1]})" "\n"
       R"({"id":"dup","content":"疫情第一版"})" "\n"
       R"({"id":"dup","content":"疫情第二版"})" "\n"
       R"({"id":"dup","content":"疫情第一版"})" "\n"
       R"({"id":"nul","title":"疫情","content":null})" "\n");
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 8; }, 60s));
  // A later batch: the edit (offset 8) is found in the store.
  send(R"({"id":"dup","content":"疫情第三版"})" "\n");
  REQUIRE(eventually([&] { return d.status()["counters"]["consumed"] == 9; }, 60s));

  const auto m = d.metrics();
  CHECK(metric(m, R"(yuqing_messages_invalid_total{channel="posts",reason="wrong_type"})") == 3);
  CHECK(metric(m, R"(yuqing_messages_repeated_total{channel="posts",kind="edited"})") == 2);
  CHECK(metric(m, R"(yuqing_messages_repeated_total{channel="posts",kind="duplicate"})") == 1);
  const auto [rc, dead] = shell("kcat -C -b " + bootstrap + " -t yuqing.deadletter -e -q -f '%h\\n' 2>&1");
  REQUIRE(rc == 0);
  CHECK(dead.find("yuqing.reason=wrong_type,yuqing.channel=posts,yuqing.source=yuqing.posts/0/1,") != std::string::npos);
  CHECK(dead.find("yuqing.reason=wrong_type,yuqing.channel=posts,yuqing.source=yuqing.posts/0/2,") != std::string::npos);
  CHECK(dead.find("yuqing.reason=wrong_type,yuqing.channel=posts,yuqing.source=yuqing.posts/0/3,") != std::string::npos);
  REQUIRE(d.stop() == 0);
  CHECK(stored_hits(d.data()) == std::multiset<std::string>{
            "yuqing.posts/arr outbreak", "yuqing.posts/dup outbreak", "yuqing.posts/dup~0:5 outbreak",
            "yuqing.posts/dup~0:8 outbreak", "yuqing.posts/nul outbreak"});
  auto s = yuqing::storage::store::open({d.data(), false, true});
  REQUIRE(s);
  auto text_of = [&](const std::string& key) {
    auto rec = (*s)->message(key);
    REQUIRE(rec);
    REQUIRE(rec->has_value());
    return (**rec).text.back().second;
  };
  CHECK(text_of("yuqing.posts/arr") == "江门\n疫情通报");
  CHECK(text_of("yuqing.posts/dup") == "疫情第一版");
  CHECK(text_of("yuqing.posts/dup~0:5") == "疫情第二版");
  CHECK(text_of("yuqing.posts/dup~0:8") == "疫情第三版");
}
