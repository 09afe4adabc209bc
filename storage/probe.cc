#include "storage/probe.h"

#include <tuple>

#include "metrics/registry.h"

namespace yuqing::storage {

using metrics::add_family;
using metrics::add_value;

std::vector<prometheus::MetricFamily> families(const store::stats& s) {
  std::vector<prometheus::MetricFamily> out;
  if (!s.column_families.empty()) {
    using field = uint64_t store::column_family_stats::*;
    const std::tuple<const char*, const char*, field> per_cf[] = {
        {"yuqing_storage_sst_bytes", "Size of the live SST files of each column family, in bytes",
         &store::column_family_stats::sst_bytes},
        {"yuqing_storage_memtable_bytes", "Size of the memtables of each column family, in bytes",
         &store::column_family_stats::memtable_bytes},
        {"yuqing_storage_keys", "Keys in each column family (RocksDB's estimate)",
         &store::column_family_stats::keys},
        {"yuqing_storage_pending_compaction_bytes",
         "Bytes RocksDB estimates compaction has to rewrite, by column family",
         &store::column_family_stats::pending_compaction_bytes},
    };
    for (const auto& [name, help, member] : per_cf) {
      auto& f = add_family(out, name, help, prometheus::MetricType::Gauge);
      for (const auto& c : s.column_families)
        add_value(f, static_cast<double>(c.*member), {{"column_family", c.name}});
    }
  }
  if (s.filesystem_avail_bytes)
    add_value(add_family(out, "yuqing_storage_filesystem_avail_bytes",
                         "Room left on the file system of the database, in bytes",
                         prometheus::MetricType::Gauge),
              static_cast<double>(*s.filesystem_avail_bytes));
  if (s.filesystem_size_bytes)
    add_value(add_family(out, "yuqing_storage_filesystem_size_bytes",
                         "Size of the file system of the database, in bytes",
                         prometheus::MetricType::Gauge),
              static_cast<double>(*s.filesystem_size_bytes));
  return out;
}

}  // namespace yuqing::storage
