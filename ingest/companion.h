// ingest::companion: a component that rides along with the stored batches. The mailbox
// writes its cases in the same RocksDB batch as the messages they come from; the risk
// index follows what was stored. Ingest knows neither: it calls every companion it was
// given, in the order given, on its own thread.
//
// Errors: none flow back; a companion logs its own.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "storage/records.h"
#include "storage/store.h"

namespace yuqing::ingest {

// How far the partitions of the topics a companion follows are read (after each batch and
// each lag update).
struct read_progress {
  size_t assigned = 0;        // partitions of those topics assigned to this daemon
  size_t behind = 0;          // ... of which not read to their end
  int64_t read_until_ms = 0;  // every message of those topics stamped up to here is read
};

class companion {
 public:
  virtual ~companion() = default;
  // Before the batch is written: add records to b.owned (written in the same batch). What
  // is returned comes back with stored().
  virtual std::any prepare(storage::batch& b) { return {}; }
  // The batch is durable; its offsets are not committed yet.
  virtual void stored(const storage::batch& b, std::any prepared) {}
  // Topics whose read progress this companion follows (asked once, by add_companion()).
  virtual std::set<std::string> followed_topics() const { return {}; }
  virtual void progress(const read_progress& p) {}
  // These stored messages are handed back with their partitions (the next owner stores
  // them): add the keys of the companion's records to e.owned_keys. The function returned
  // (if any) runs once e is applied.
  virtual std::function<void()> hand_back(const std::vector<storage::message_record>& messages,
                                          storage::erasure& e) {
    return {};
  }
};

}  // namespace yuqing::ingest
