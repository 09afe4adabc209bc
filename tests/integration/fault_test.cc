// Storage faults under a running ingest: the store's file system fails on demand (a
// RocksDB FileSystem wrapper), with the daemon's ingest, decoder and matcher, against the
// embedded mock cluster. Ingest must pause, move no offset, lose nothing and resume.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <set>
#include <catch2/catch.hpp>
#include <thread>

#include "config/config.h"
#include "ingest/ingest.h"
#include "kafka/kafka.h"
#include "ingest/probe.h"
#include "metrics/registry.h"
#include "matchers/matcher.h"
#include "storage/store.h"
#include "tests/support/process.h"
#include "tests/support/yuqing.h"

using namespace yuqing;
using namespace yuqing::testing;
using namespace std::chrono_literals;

namespace {

// Every write to a file fails while `failing` is set (the WAL append of a batch first).
class failing_fs final : public rocksdb::FileSystemWrapper {
 public:
  explicit failing_fs(std::atomic<bool>& failing)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), failing_(failing) {}
  const char* Name() const override { return "yuqing-test-failing-fs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto st = target()->NewWritableFile(f, o, r, dbg);
    if (st.ok()) *r = std::make_unique<file>(std::move(*r), failing_);
    return st;
  }

 private:
  class file final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    file(std::unique_ptr<rocksdb::FSWritableFile>&& f, std::atomic<bool>& failing)
        : FSWritableFileOwnerWrapper(std::move(f)), failing_(failing) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (failing_) return rocksdb::IOStatus::NoSpace("injected: no space left on device");
      return FSWritableFileOwnerWrapper::Append(d, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (failing_) return rocksdb::IOStatus::NoSpace("injected: no space left on device");
      return FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (failing_) return rocksdb::IOStatus::IOError("injected: sync failed");
      return FSWritableFileOwnerWrapper::Sync(o, dbg);
    }

   private:
    std::atomic<bool>& failing_;
  };
  std::atomic<bool>& failing_;
};

}  // namespace

TEST_CASE("a failing store pauses ingest, moves no offset, loses nothing and resumes",
          "[integration][fault]") {
  temp_dir dir;
  std::atomic<bool> failing{false};
  auto env = rocksdb::NewCompositeEnv(std::make_shared<failing_fs>(failing));
  auto store = storage::store::open({dir.path / "data", true, false, int64_t{7} * 24 * 3600 * 1000,
                                     nullptr, env.get()});
  REQUIRE(store.ok());

  auto kafka = kafka::embedded_kafka::start(1);
  REQUIRE(kafka.ok());
  REQUIRE((*kafka)->create_topic("t", 1).ok());
  REQUIRE((*kafka)->create_topic("yuqing.deadletter", 1).ok());
  auto cfg = config::load_string(
      "channels:\n  - {name: posts, topic: t}\ningest: {batch_max_wait_ms: 20, batch_max_messages: 10}\n",
      "fault.yaml", dir.path);
  REQUIRE(cfg.ok());
  auto parsed = matchers::parse_keyword_set("id: f\nrules:\n  - {id: r, any: [疫情]}\n", "f.yaml");
  auto set = matchers::compiled_set::compile(std::move(*parsed.set));
  REQUIRE(set.ok());
  const auto m = std::make_shared<const matchers::matcher>(std::vector{set.set});
  metrics::registry registry;
  ingest::probe probe(registry, cfg->channels);
  system_clock clk;
  ingest::service ingest(*cfg, (*kafka)->bootstrap(), **store, [&] { return m; }, probe, clk);
  REQUIRE(ingest.start().ok());

  auto producer = kafka::sync_producer::create((*kafka)->bootstrap(), {});
  REQUIRE(producer.ok());
  auto produce = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string id = "m" + std::to_string(i);
      REQUIRE((*producer)->produce("t", id, "{\"id\":\"" + id + "\",\"content\":\"" +
                                                (i % 7 == 0 ? "疫情" : "晴") + "\"}").ok());
    }
    REQUIRE((*producer)->flush(10000) == 0);
  };
  // The stored offset; -1 while the store is unreadable (closed between reopen attempts).
  auto stored = [&]() -> int64_t {
    const auto o = (*store)->next_offset("t", 0);
    return o.ok() ? o->value_or(0) : -1;
  };

  produce(0, 50);
  REQUIRE(eventually([&] { return ingest.counters().consumed == 50; }, 30s));
  CHECK(stored() == 50);

  failing = true;
  produce(50, 100);
  REQUIRE(eventually([&] { return ingest.counters().paused; }, 10s));
  // The batch retried and refused again (three failed writes: 0.7 s of backoff) ...
  REQUIRE(eventually([&] {
    return metric(registry.expose(), "yuqing_storage_write_errors_total") >= 3;
  }, 30s));
  CHECK(ingest.counters().consumed == 50);  // ... and nothing counted while nothing is stored
  const int64_t while_failing = stored();
  CHECK((while_failing == 50 || while_failing == -1));  // and no offset moved
  CHECK(registry.expose().find("yuqing_ingest_paused 1") != std::string::npos);

  failing = false;  // the disk has room again
  REQUIRE(eventually([&] { return ingest.counters().consumed == 100; }, 60s));
  CHECK(!ingest.counters().paused);
  CHECK(stored() == 100);
  ingest.stop();

  storage::hit_query q;
  q.limit = 1000;
  const auto hits = (*store)->hits(q);
  REQUIRE(hits.ok());
  std::set<std::string> got;
  for (const auto& h : *hits) got.insert(h.message_key);
  std::set<std::string> expected;
  for (int i = 0; i < 100; i += 7) expected.insert("t/m" + std::to_string(i));
  CHECK(got == expected);
  CHECK(hits->size() == expected.size());
}
