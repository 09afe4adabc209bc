// storage probe: the store's metrics, computed from store::statistics() at scrape time.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "storage/store.h"

namespace yuqing::storage {

// The store's families, read at each scrape: yuqing_storage_{sst,memtable}_bytes, _keys and
// _pending_compaction_bytes by column family, yuqing_storage_filesystem_{avail,size}_bytes.
std::vector<prometheus::MetricFamily> families(const store::stats& s);

}  // namespace yuqing::storage
