// store: yuqing's RocksDB database.
//
// Operation: column families
//   hits      key: topic \0 be64(time_ms) message_key \0 set \0 rule   (prefix: topic \0)
//   messages  key: message_key          value: be64(stored_ms) message_record
//             kept options.message_retention_ms after they were stored; a compaction
//             filter drops older ones (periodic compaction makes sure files are visited)
//   offsets   key: kafka topic \0 be32(partition)                      value: next offset (8 bytes)
//   meta      schema_version; kafka_cluster (the cluster id the stored offsets come from);
//             set versions under "setv" \0 set \0 be64(loaded_ms) version, and the text
//             of each under "sett" \0 set \0 version
//   alerts    key: alert id            value: the alert as JSON (latest state, audit trail)
//   mailbox   mailbox cases: keys and values are mailbox/cases.h's; written
//             with the batch that consumed their messages, or on their own (alert markers)
//   verdicts  analysts' verdicts on hits and alerts: keys and values are precision/'s
//             (precision/verdicts.h); apart from the hits, so a replay leaves them alone
//   briefings the 舆情简报 made (daemon/briefing_service.h): key: id, value: JSON with
//             the Markdown, HTML and JSON renderings and the webhook deliveries
// (Column families added after a database was made are created when it is next opened
// read-write.)
// A batch (hits, messages and the next offsets of the partitions it read) is one
// WriteBatch, synced when options.sync: the offsets move only together with the data they
// cover. Keys are deterministic, so a replay rewrites the same keys (no duplicates).
//
// Concurrency: all methods are thread-safe (RocksDB's guarantees, and a shared lock that the
// recovery after a failed write takes exclusively to reopen the database). One process may
// open a directory read-write; others may open it read-only (a snapshot as of open).
//
// Errors: nothing throws; rocksdb::Status becomes a result/status with the path in the
// message. open() refuses a database whose schema version is not this build's. After a
// failed write the next write first recovers the database (Resume, else reopen).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/clock.h"
#include "config/result.h"
#include "storage/records.h"

namespace rocksdb {
class Env;
class WriteBatch;
}

namespace yuqing::storage {

constexpr int schema_version = 3;  // 3: binary records

struct store_options {
  std::filesystem::path path;
  bool sync = true;
  bool read_only = false;
  int64_t message_retention_ms = int64_t{7} * 24 * 3600 * 1000;
  const clock* clk = nullptr;  // nullptr: the system clock; must outlive the store
  rocksdb::Env* env = nullptr;  // nullptr: the default; tests inject faults through it
};

struct owned_record {
  std::string family, key, value;
};

struct batch {
  std::vector<hit_record> hits;
  std::vector<message_record> messages;
  std::vector<partition_offset> offsets;
  // Records of the column families owned by components above (mailbox cases written with
  // the messages they come from): family, key, value.
  std::vector<owned_record> owned;
  bool empty() const { return hits.empty() && messages.empty() && offsets.empty() && owned.empty(); }
};

// One page of a scan over the stored messages, in key order.
struct message_page {
  std::vector<message_record> messages;
  std::vector<int64_t> stored_ms;  // when each was stored
  std::string last_key;            // continue after this key; empty with done
  bool done = false;
};

// Work handed back: hits and messages to delete and the offsets to set, in one synced
// WriteBatch (see ingest: a partition revoked before its offsets reached Kafka).
struct erasure {
  std::vector<std::string> hit_keys;      // hit_key() of each hit
  std::vector<std::string> message_keys;  // message_record::key
  std::vector<partition_offset> offsets;
  std::vector<std::pair<std::string, std::string>> owned_keys;  // family, key
  bool empty() const {
    return hit_keys.empty() && message_keys.empty() && offsets.empty() && owned_keys.empty();
  }
};

struct hit_query {
  std::string topic;  // empty: every topic
  std::string set;    // empty: every set
  std::string message;  // a message key: only its hits (empty: every message)
  std::string rule;     // empty: every rule
  std::string channel;  // empty: every channel
  std::string region;   // the message's region (the message must still be kept); empty: any
  int64_t since_ms = 0;
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // exclusive
  size_t limit = 1000;
};

class store {
 public:
  static result<std::unique_ptr<store>> open(const store_options& options);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Writes the batch atomically (and durably when options.sync).
  status write(const batch& b);

  // Deletes and resets atomically (durably when options.sync).
  status erase(const erasure& e);

  // The stored next offset of a partition; nullopt when none was stored.
  result<std::optional<int64_t>> next_offset(const std::string& topic, int32_t partition) const;

  // The id of the Kafka cluster the stored offsets come from; nullopt before the first
  // bind_kafka_cluster. Binding another id deletes every stored offset with it (one synced
  // write): offsets of one cluster mean nothing on another. Offsets stored before any id
  // (an older version) are taken to be this cluster's, unless it is `fresh` (an embedded
  // cluster, new at every start). True when stored offsets were dropped.
  result<std::optional<std::string>> kafka_cluster() const;
  result<bool> bind_kafka_cluster(const std::string& id, bool fresh = false);

  // Hits ordered by topic, then time. By message: a seek per topic while the message is
  // retained (its time is known), else a scan of the topic / time range given.
  result<std::vector<hit_record>> hits(const hit_query& q) const;
  // Calls fn with the time, set and rule of each hit of `topic` in [since_ms, until_ms),
  // read from the keys alone (no record decoded), in time order.
  status scan_hit_keys(const std::string& topic, int64_t since_ms, int64_t until_ms,
                       const std::function<void(int64_t time_ms, std::string_view set,
                                                std::string_view rule)>& fn) const;

  result<std::optional<message_record>> message(const std::string& key) const;

  // Up to `max` messages with keys after `after_key` ("" : from the first). A long scan
  // goes page by page, so it never holds the database (or a snapshot) for long.
  result<message_page> scan_messages(const std::string& after_key, size_t max) const;
  // RocksDB's estimate of the number of stored messages (for progress reports).
  uint64_t estimate_messages() const;

  // The size of each column family, from RocksDB's properties (its estimates), and the
  // room left on the file system that holds the database. Empty while the database is
  // being reopened after a failed write.
  struct column_family_stats {
    std::string name;
    uint64_t sst_bytes = 0;       // live SST files
    uint64_t memtable_bytes = 0;  // memtables, active and immutable
    uint64_t keys = 0;            // estimated number of keys
    uint64_t pending_compaction_bytes = 0;
  };
  struct stats {
    std::vector<column_family_stats> column_families;
    std::optional<uint64_t> filesystem_avail_bytes;  // for an unprivileged user (statvfs)
    std::optional<uint64_t> filesystem_size_bytes;
  };
  stats statistics() const;

  // Column families owned by a component above (alerts, mailbox, verdicts, ...): their
  // keys and values are the owner's. Synced writes, one value, the keys that start with
  // `prefix` from `from` on (empty: from the first) in order until fn returns false, and
  // deleting the keys in [begin, end). An unknown family is an error.
  status put(std::string_view family, const std::vector<std::pair<std::string, std::string>>& kvs);
  result<std::optional<std::string>> get(std::string_view family, const std::string& key) const;
  status scan(std::string_view family, std::string_view prefix,
              const std::function<bool(std::string_view key, std::string_view value)>& fn,
              std::string_view from = {}) const;
  status delete_range(std::string_view family, const std::string& begin, const std::string& end);

  // Records a loaded keyword-set version (synced), with its text when r.text is not empty.
  status record_set_version(const set_version_record& r);
  // The text of a set version (kept since versions record it); nullopt when not kept.
  status put_set_text(const std::string& set_id, const std::string& version, const std::string& text);
  result<std::optional<std::string>> set_text(const std::string& set_id, const std::string& version) const;
  // The recorded versions of one set (every set when empty), oldest first, at most `limit`
  // per set (the latest ones).
  result<std::vector<set_version_record>> set_versions(const std::string& set_id,
                                                       size_t limit = 100) const;

  // Compacts the messages column family now, dropping messages past retention (also happens
  // by itself in the background). Returns the number of messages left (an estimate).
  result<uint64_t> compact_messages();

  // Flushes memtables to disk (used at shutdown).
  status flush();

  const std::filesystem::path& path() const { return options_.path; }

 private:
  struct impl;
  explicit store(store_options o);
  status open_db();  // (re)opens the database of options_ into impl_
  result<std::vector<hit_record>> hits_of_message(const hit_query& q, int64_t time_ms) const;
  result<std::optional<message_record>> message_unlocked(const std::string& key) const;
  bool wanted(const hit_query& q, const hit_record& h) const;  // the filters but topic, time, message
  status recover_if_failed();
  std::string unavailable() const;
  // Adds the offsets to `wb` and writes it (synced when options.sync); the caller holds the
  // shared lock.
  status apply(rocksdb::WriteBatch& wb, const std::vector<partition_offset>& offsets);
  store_options options_;
  std::unique_ptr<impl> impl_;
};

// Key encodings, exposed for tests and tools.
std::string hit_key(const hit_record& h);
std::string offset_key(const std::string& topic, int32_t partition);

}  // namespace yuqing::storage
