#include <catch2/catch.hpp>

#include "metrics/registry.h"
#include "storage/probe.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::storage;

TEST_CASE("the store's sizes by column family and its file system's room are exposed", "[probe][storage]") {
  const testing::temp_dir tmp;
  const std::filesystem::path& dir = tmp.path;
  {
    auto s = storage::store::open({dir, false, false});
    REQUIRE(s.ok());
    metrics::registry m;
    m.add_collector([&] { return storage::families((*s)->statistics()); });

    storage::batch b;
    for (int i = 0; i < 100; ++i) {
      storage::hit_record h;
      h.topic = "epidemic";
      h.time_ms = 1000 + i;
      h.message_key = "t/" + std::to_string(i);
      h.set_id = "s";
      h.rule_id = "r";
      b.hits.push_back(h);
    }
    REQUIRE((*s)->write(b).ok());
    auto sample = [&](const std::string& text, const std::string& series) {
      const auto at = text.find("\n" + series + " ");
      REQUIRE(at != std::string::npos);
      return std::stod(text.substr(at + series.size() + 2));
    };
    // Before a flush the hits are in the memtable; after it, in an SST file.
    std::string text = m.expose();
    CHECK(sample(text, "yuqing_storage_memtable_bytes{column_family=\"hits\"}") > 0);
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"hits\"}") == 0);
    REQUIRE((*s)->flush().ok());
    text = m.expose();
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"hits\"}") > 0);
    CHECK(sample(text, "yuqing_storage_keys{column_family=\"hits\"}") == 100);
    CHECK(sample(text, "yuqing_storage_sst_bytes{column_family=\"messages\"}") == 0);
    CHECK(sample(text, "yuqing_storage_pending_compaction_bytes{column_family=\"mailbox\"}") == 0);
    const double avail = sample(text, "yuqing_storage_filesystem_avail_bytes");
    CHECK(avail > 0);
    CHECK(avail <= sample(text, "yuqing_storage_filesystem_size_bytes"));
    // The families come once per scrape, after the registry's and the process's.
    CHECK(text.find("# TYPE yuqing_storage_keys gauge") == text.rfind("# TYPE yuqing_storage_keys gauge"));
    CHECK(text.find("process_open_fds") < text.find("yuqing_storage_keys"));
  }
}
