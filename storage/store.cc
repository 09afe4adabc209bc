#include "storage/store.h"
#include "storage/key_codec.h"

#include <algorithm>
#include <atomic>
#include <shared_mutex>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <sys/statvfs.h>

namespace yuqing::storage {
namespace {

const char* const cf_names[] = {rocksdb::kDefaultColumnFamilyName.c_str(), "hits", "messages",
                                "offsets", "meta", "alerts", "mailbox", "verdicts", "briefings"};
enum cf_index { cf_default = 0, cf_hits, cf_messages, cf_offsets, cf_meta, cf_alerts, cf_mailbox, cf_verdicts, cf_briefings, cf_count };

// Times are stored offset by 2^63 so that negative times sort before positive ones.
uint64_t time_bits(int64_t t) { return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63); }

// Prefix of a hits key: the topic and its terminating \0.
class topic_prefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "yuqing.topic_prefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* z = memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(z) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

// Drops messages stored longer ago than the retention.
class message_retention final : public rocksdb::CompactionFilter {
 public:
  message_retention(const clock& c, int64_t retention_ms) : clk_(c), retention_ms_(retention_ms) {}
  const char* Name() const override { return "yuqing.message_retention.v1"; }
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    if (value.size() < 8) return false;
    const auto stored = static_cast<int64_t>(get_be64(value.data()));
    return clk_.now_ms() - stored > retention_ms_;
  }

 private:
  const clock& clk_;
  int64_t retention_ms_;
};

// The column families whose keys and values belong to a component above (put/get/scan).
int owned_family(std::string_view name) {
  if (name == "verdicts") return cf_verdicts;
  if (name == "briefings") return cf_briefings;
  if (name == "mailbox") return cf_mailbox;
  if (name == "alerts") return cf_alerts;
  return -1;
}

std::string describe(const std::filesystem::path& p, const rocksdb::Status& s) {
  return "rocksdb " + p.string() + ": " + s.ToString();
}

}  // namespace

namespace {
void append_hit_key(std::string& k, const hit_record& h) {
  k.reserve(k.size() + h.topic.size() + h.message_key.size() + h.set_id.size() + h.rule_id.size() + 12);
  k += h.topic;
  k += '\0';
  put_be64(k, time_bits(h.time_ms));
  k += h.message_key;
  k += '\0';
  k += h.set_id;
  k += '\0';
  k += h.rule_id;
}
}  // namespace

std::string hit_key(const hit_record& h) {
  std::string k;
  append_hit_key(k, h);
  return k;
}

std::string offset_key(const std::string& topic, int32_t partition) {
  std::string k = topic;
  k += '\0';
  put_be32(k, static_cast<uint32_t>(partition));
  return k;
}

struct store::impl {
  yuqing::system_clock system;
  std::atomic<bool> failed{false};  // the last write failed: recover before the next
  // Shared by every use of db and cf; exclusive while the database is reopened.
  mutable std::shared_mutex mu;
  std::unique_ptr<message_retention> retention;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;
  void close() {
    for (auto* h : cf)
      if (h && db) db->DestroyColumnFamilyHandle(h);
    cf.clear();
    db.reset();
  }
  ~impl() { close(); }
};

store::store(store_options o) : options_(std::move(o)), impl_(std::make_unique<impl>()) {}
store::~store() = default;

result<std::unique_ptr<store>> store::open(const store_options& options) {
  std::unique_ptr<store> s(new store(options));
  if (auto st = s->open_db(); !st) return error{st.error_message()};
  return s;
}

status store::open_db() {
  const store_options& options = options_;
  store* s = this;
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = !options.read_only;
  db_opts.create_missing_column_families = !options.read_only;
  db_opts.keep_log_file_num = 5;
  db_opts.max_background_jobs = 2;
  if (options.env) db_opts.env = options.env;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < cf_count; ++i) {
    rocksdb::ColumnFamilyOptions o;
    o.compression = rocksdb::kLZ4Compression;
    if (i == cf_hits) {
      o.prefix_extractor = std::make_shared<topic_prefix>();
      rocksdb::BlockBasedTableOptions t;
      o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    }
    if (i == cf_messages) {
      o.OptimizeForPointLookup(64);
      const clock& clk = options.clk ? *options.clk : s->impl_->system;
      s->impl_->retention = std::make_unique<message_retention>(clk, options.message_retention_ms);
      o.compaction_filter = s->impl_->retention.get();
      // Visit every file at least twice per retention period (at least hourly).
      o.periodic_compaction_seconds =
          std::max<uint64_t>(3600, static_cast<uint64_t>(options.message_retention_ms / 2000));
    }
    cfs.emplace_back(cf_names[i], o);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st;
  if (options.read_only) {
    st = rocksdb::DB::OpenForReadOnly(db_opts, options.path.string(), cfs, &s->impl_->cf, &raw);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    st = rocksdb::DB::Open(db_opts, options.path.string(), cfs, &s->impl_->cf, &raw);
  }
  if (!st.ok()) return error{describe(options.path, st)};
  s->impl_->db.reset(raw);

  std::string version;
  st = raw->Get(rocksdb::ReadOptions(), s->impl_->cf[cf_meta], "schema_version", &version);
  if (st.IsNotFound()) {
    if (options.read_only) return error{options.path.string() + ": not a yuqing database"};
    rocksdb::WriteOptions w;
    w.sync = true;
    st = raw->Put(w, s->impl_->cf[cf_meta], "schema_version", std::to_string(schema_version));
    if (!st.ok()) return error{describe(options.path, st)};
  } else if (!st.ok()) {
    return error{describe(options.path, st)};
  } else if (version != std::to_string(schema_version)) {
    return error{options.path.string() + ": schema version " + version + ", this build reads " +
                 std::to_string(schema_version) +
                 " (schemas before 1.0 are not migrated: move the directory away to start "
                 "afresh; the messages are still in Kafka while its retention lasts)"};
  }
  return ok_status();
}

status store::apply(rocksdb::WriteBatch& wb, const std::vector<partition_offset>& offsets) {
  for (const auto& o : offsets) {
    std::string v;
    put_be64(v, static_cast<uint64_t>(o.next_offset));
    wb.Put(impl_->cf[cf_offsets], offset_key(o.topic, o.partition), v);
  }
  rocksdb::WriteOptions w;
  w.sync = options_.sync;
  const auto st = impl_->db->Write(w, &wb);
  if (!st.ok()) {
    impl_->failed = true;
    return error{describe(options_.path, st)};
  }
  return ok_status();
}

std::string store::unavailable() const {
  return "rocksdb " + options_.path.string() + ": closed after a failed write, reopening";
}

status store::recover_if_failed() {
  // A failed write (disk full, I/O error) leaves RocksDB in a background-error state in
  // which every write fails; a failed WAL append cannot even be resumed. Before writing
  // again: resume, else close and reopen (the WAL is replayed up to its last whole record).
  if (!impl_->failed.load()) return ok_status();
  std::unique_lock lock(impl_->mu);
  if (!impl_->failed.load()) return ok_status();
  if (!impl_->db || !impl_->db->Resume().ok()) {
    impl_->close();
    if (auto st = open_db(); !st) {
      impl_->close();
      return st;  // still failing: the caller retries
    }
  }
  impl_->failed = false;
  return ok_status();
}

status store::write(const batch& b) {
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  size_t bytes = 64 * b.offsets.size();  // reserved up front: the batch is not regrown
  for (const auto& h : b.hits) bytes += 160 + h.title.size() + h.author.size() + 2 * h.message_key.size();
  for (const auto& m : b.messages) {
    bytes += 160 + 2 * m.key.size() + m.title.size() + m.author.size() + m.url.size();
    for (const auto& [name, text] : m.text) bytes += name.size() + text.size() + 10;
  }
  for (const auto& r : b.owned) bytes += r.key.size() + r.value.size() + 16;
  rocksdb::WriteBatch wb(bytes);
  std::string key, value;  // reused: no allocation per record
  for (const auto& h : b.hits) {
    key.clear();
    append_hit_key(key, h);
    value.clear();
    h.encode_to(value);
    wb.Put(impl_->cf[cf_hits], key, value);
  }
  const int64_t now = (options_.clk ? *options_.clk : impl_->system).now_ms();
  for (const auto& m : b.messages) {
    value.clear();
    put_be64(value, static_cast<uint64_t>(now));
    m.encode_to(value);
    wb.Put(impl_->cf[cf_messages], m.key, value);
  }
  for (const auto& r : b.owned) {
    const int cf = owned_family(r.family);
    if (cf < 0) return error{"no column family " + r.family};
    wb.Put(impl_->cf[cf], r.key, r.value);
  }
  return apply(wb, b.offsets);
}

status store::erase(const erasure& e) {
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch wb;
  for (const auto& k : e.hit_keys) wb.Delete(impl_->cf[cf_hits], k);
  for (const auto& k : e.message_keys) wb.Delete(impl_->cf[cf_messages], k);
  for (const auto& [family, k] : e.owned_keys) {
    const int cf = owned_family(family);
    if (cf < 0) return error{"no column family " + family};
    wb.Delete(impl_->cf[cf], k);
  }
  return apply(wb, e.offsets);
}

result<std::optional<int64_t>> store::next_offset(const std::string& topic,
                                                  int32_t partition) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  std::string v;
  const auto st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf[cf_offsets],
                                 offset_key(topic, partition), &v);
  if (st.IsNotFound()) return std::optional<int64_t>{};
  if (!st.ok()) return error{describe(options_.path, st)};
  if (v.size() != 8) return error{options_.path.string() + ": corrupt offset record"};
  uint64_t x = 0;
  for (unsigned char c : v) x = (x << 8) | c;
  return std::optional<int64_t>{static_cast<int64_t>(x)};
}

result<std::optional<std::string>> store::kafka_cluster() const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  std::string v;
  const auto st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf[cf_meta], "kafka_cluster", &v);
  if (st.IsNotFound()) return std::optional<std::string>{};
  if (!st.ok()) return error{describe(options_.path, st)};
  return std::optional<std::string>{v};
}

result<bool> store::bind_kafka_cluster(const std::string& id, bool fresh) {
  auto before = kafka_cluster();
  if (!before) return error{before.error_message()};
  if (*before == id) return false;
  if (auto st = recover_if_failed(); !st) return error{st.error_message()};
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  rocksdb::WriteBatch wb;
  bool drop = false;
  if (before->has_value() || fresh) {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[cf_offsets]));
    it->SeekToFirst();
    drop = it->Valid();
  }
  // (Topic names are ASCII: every offset key sorts before \xff.)
  if (drop) wb.DeleteRange(impl_->cf[cf_offsets], "", std::string(9, '\xff'));
  wb.Put(impl_->cf[cf_meta], "kafka_cluster", id);
  if (auto st = apply(wb, {}); !st) return error{st.error_message()};
  return drop;
}

bool store::wanted(const hit_query& q, const hit_record& h) const {
  if (!q.set.empty() && h.set_id != q.set) return false;
  if (!q.rule.empty() && h.rule_id != q.rule) return false;
  if (!q.channel.empty() && h.channel != q.channel) return false;
  if (q.region.empty()) return true;
  auto m = message_unlocked(h.message_key);
  return m && m->has_value() && (*m)->region == q.region;
}

result<std::vector<hit_record>> store::hits(const hit_query& q) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  if (!q.message.empty()) {
    // A message's hits all carry its time: with the message still retained, seek straight
    // to topic \0 time key \0 in each topic (a skip over the few topics), else scan.
    auto m = message_unlocked(q.message);
    if (!m) return error{m.error_message()};
    if (m->has_value()) return hits_of_message(q, (*m)->time_ms);
  }
  std::vector<hit_record> out;
  rocksdb::ReadOptions ro;
  ro.total_order_seek = q.topic.empty();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf[cf_hits]));
  std::string start;
  if (!q.topic.empty()) {
    start = q.topic;
    start += '\0';
    put_be64(start, time_bits(q.since_ms));
  }
  const std::string prefix = q.topic.empty() ? "" : q.topic + std::string(1, '\0');
  for (it->Seek(start); it->Valid() && out.size() < q.limit; it->Next()) {
    const auto key = it->key();
    if (!prefix.empty() && !key.starts_with(prefix)) break;
    const char* z = static_cast<const char*>(memchr(key.data(), '\0', key.size()));
    if (z == nullptr || key.data() + key.size() - z < 9) continue;
    uint64_t bits = 0;
    for (int i = 1; i <= 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(z[i]);
    const auto t = static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
    if (t < q.since_ms) continue;
    if (t >= q.until_ms) {
      if (!prefix.empty()) break;  // one topic is ordered by time
      continue;
    }
    auto h = hit_record::decode(std::string_view(it->value().data(), it->value().size()));
    if (!h) return error{options_.path.string() + ": corrupt hit record"};
    if (!wanted(q, *h)) continue;
    if (!q.message.empty() && h->message_key != q.message) continue;
    out.push_back(std::move(*h));
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  return out;
}

status store::scan_hit_keys(const std::string& topic, int64_t since_ms, int64_t until_ms,
                            const std::function<void(int64_t, std::string_view, std::string_view)>& fn) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[cf_hits]));
  const std::string prefix = topic + std::string(1, '\0');
  std::string start = prefix;
  put_be64(start, time_bits(since_ms));
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() < prefix.size() + 8) continue;
    uint64_t bits = 0;
    for (size_t i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(key[prefix.size() + i]);
    const auto t = static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
    if (t >= until_ms) break;
    const size_t rule_at = key.rfind('\0');
    const size_t set_at = rule_at == std::string_view::npos || rule_at == 0 ? std::string_view::npos
                                                                           : key.rfind('\0', rule_at - 1);
    if (set_at == std::string_view::npos || set_at < prefix.size() + 8) continue;
    fn(t, key.substr(set_at + 1, rule_at - set_at - 1), key.substr(rule_at + 1));
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  return ok_status();
}

result<std::vector<hit_record>> store::hits_of_message(const hit_query& q, int64_t time_ms) const {
  std::vector<hit_record> out;
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf[cf_hits]));
  std::string topic_start = q.topic;  // "" : the first topic
  for (it->Seek(topic_start); it->Valid() && out.size() < q.limit;) {
    const auto key = it->key();
    const char* z = static_cast<const char*>(memchr(key.data(), '\0', key.size()));
    if (z == nullptr) break;
    const std::string topic(key.data(), static_cast<size_t>(z - key.data()));
    if (!q.topic.empty() && topic != q.topic) break;
    std::string prefix = topic;
    prefix += '\0';
    put_be64(prefix, time_bits(time_ms));
    prefix += q.message;
    prefix += '\0';
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && out.size() < q.limit;
         it->Next()) {
      auto h = hit_record::decode(std::string_view(it->value().data(), it->value().size()));
      if (!h) return error{options_.path.string() + ": corrupt hit record"};
      if (!wanted(q, *h)) continue;
      out.push_back(std::move(*h));
    }
    it->Seek(topic + '\x01');  // the next topic
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  return out;
}

result<std::optional<message_record>> store::message(const std::string& key) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  return message_unlocked(key);
}

result<std::optional<message_record>> store::message_unlocked(const std::string& key) const {
  std::string v;
  const auto st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf[cf_messages], key, &v);
  if (st.IsNotFound()) return std::optional<message_record>{};
  if (!st.ok()) return error{describe(options_.path, st)};
  if (v.size() < 8) return error{options_.path.string() + ": corrupt message record " + key};
  auto m = message_record::decode(std::string_view(v).substr(8));
  if (!m) return error{options_.path.string() + ": corrupt message record " + key};
  return std::optional<message_record>{std::move(*m)};
}

result<uint64_t> store::compact_messages() {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  auto* cf = impl_->cf[cf_messages];
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  auto st = impl_->db->Flush(rocksdb::FlushOptions(), cf);
  if (st.ok()) st = impl_->db->CompactRange(o, cf, nullptr, nullptr);
  if (!st.ok()) return error{describe(options_.path, st)};
  uint64_t n = 0;
  impl_->db->GetIntProperty(cf, "rocksdb.estimate-num-keys", &n);
  return n;
}

result<message_page> store::scan_messages(const std::string& after_key, size_t max) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  message_page page;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a scan must not push live data out of the block cache
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf[cf_messages]));
  if (after_key.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(after_key);
    if (it->Valid() && it->key() == rocksdb::Slice(after_key)) it->Next();
  }
  for (; it->Valid() && page.messages.size() < max; it->Next()) {
    const auto v = it->value();
    auto m = v.size() < 8 ? std::nullopt
                          : message_record::decode(std::string_view(v.data() + 8, v.size() - 8));
    if (!m) return error{options_.path.string() + ": corrupt message record " + it->key().ToString()};
    page.stored_ms.push_back(static_cast<int64_t>(get_be64(v.data())));
    page.messages.push_back(std::move(*m));
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  page.done = !it->Valid();
  if (!page.messages.empty()) page.last_key = page.messages.back().key;
  if (page.done) page.last_key.clear();
  return page;
}

uint64_t store::estimate_messages() const {
  std::shared_lock lock(impl_->mu);
  uint64_t n = 0;
  if (impl_->db) impl_->db->GetIntProperty(impl_->cf[cf_messages], "rocksdb.estimate-num-keys", &n);
  return n;
}

store::stats store::statistics() const {
  stats out;
  {
    std::shared_lock lock(impl_->mu);
    if (!impl_->db) return out;
    for (size_t i = 0; i < impl_->cf.size(); ++i) {
      auto* h = impl_->cf[i];
      column_family_stats c;
      c.name = cf_names[i];
      impl_->db->GetIntProperty(h, "rocksdb.live-sst-files-size", &c.sst_bytes);
      impl_->db->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &c.memtable_bytes);
      impl_->db->GetIntProperty(h, "rocksdb.estimate-num-keys", &c.keys);
      impl_->db->GetIntProperty(h, "rocksdb.estimate-pending-compaction-bytes",
                                &c.pending_compaction_bytes);
      out.column_families.push_back(std::move(c));
    }
  }
  struct statvfs fs {};
  if (statvfs(options_.path.c_str(), &fs) == 0) {
    out.filesystem_avail_bytes = uint64_t{fs.f_bavail} * fs.f_frsize;
    out.filesystem_size_bytes = uint64_t{fs.f_blocks} * fs.f_frsize;
  }
  return out;
}

namespace {
std::string set_version_prefix(const std::string& set_id) {
  std::string k = "setv";
  k += '\0';
  if (set_id.empty()) return k;
  k += set_id;
  k += '\0';
  return k;
}
std::string set_text_key(const std::string& set_id, const std::string& version) {
  std::string k = "sett";
  k += '\0';
  k += set_id;
  k += '\0';
  k += version;
  return k;
}
}  // namespace

status store::record_set_version(const set_version_record& r) {
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  std::string key = set_version_prefix(r.set_id);
  put_be64(key, time_bits(r.loaded_ms));
  key += r.version;  // two versions loaded in the same millisecond are both kept
  rocksdb::WriteBatch wb;
  wb.Put(impl_->cf[cf_meta], key, r.to_json());
  if (!r.text.empty()) wb.Put(impl_->cf[cf_meta], set_text_key(r.set_id, r.version), r.text);
  return apply(wb, {});
}

status store::put_set_text(const std::string& set_id, const std::string& version, const std::string& text) {
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch wb;
  wb.Put(impl_->cf[cf_meta], set_text_key(set_id, version), text);
  return apply(wb, {});
}

result<std::optional<std::string>> store::set_text(const std::string& set_id, const std::string& version) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  std::string v;
  const auto st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf[cf_meta], set_text_key(set_id, version), &v);
  if (st.IsNotFound()) return std::optional<std::string>{};
  if (!st.ok()) return error{describe(options_.path, st)};
  return std::optional<std::string>{std::move(v)};
}

result<std::vector<set_version_record>> store::set_versions(const std::string& set_id,
                                                            size_t limit) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  const std::string prefix = set_version_prefix(set_id);
  std::vector<set_version_record> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[cf_meta]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto r = set_version_record::from_json(it->value().ToString());
    if (!r) return error{options_.path.string() + ": corrupt set version record"};
    out.push_back(std::move(*r));
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  // Keep the latest `limit` of each set (records are grouped by set, oldest first).
  std::vector<set_version_record> kept;
  for (size_t begin = 0, end = 0; begin < out.size(); begin = end) {
    while (end < out.size() && out[end].set_id == out[begin].set_id) ++end;
    for (size_t i = end - std::min(limit, end - begin); i < end; ++i) kept.push_back(std::move(out[i]));
  }
  return kept;
}

status store::put(std::string_view family, const std::vector<std::pair<std::string, std::string>>& kvs) {
  const int cf = owned_family(family);
  if (cf < 0) return error{"no column family " + std::string(family)};
  if (kvs.empty()) return ok_status();
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : kvs) wb.Put(impl_->cf[cf], k, v);
  return apply(wb, {});
}

result<std::optional<std::string>> store::get(std::string_view family, const std::string& key) const {
  const int cf = owned_family(family);
  if (cf < 0) return error{"no column family " + std::string(family)};
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  std::string v;
  const auto st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf[cf], key, &v);
  if (st.IsNotFound()) return std::optional<std::string>{};
  if (!st.ok()) return error{describe(options_.path, st)};
  return std::optional<std::string>{std::move(v)};
}

status store::scan(std::string_view family, std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view)>& fn, std::string_view from) const {
  const int cf = owned_family(family);
  if (cf < 0) return error{"no column family " + std::string(family)};
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf[cf]));
  const std::string start = from.empty() || from < prefix ? std::string(prefix) : std::string(from);
  for (it->Seek(start); it->Valid(); it->Next()) {
    const auto k = it->key();
    if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(it->value().data(), it->value().size())))
      break;
  }
  if (!it->status().ok()) return error{describe(options_.path, it->status())};
  return ok_status();
}

status store::delete_range(std::string_view family, const std::string& begin, const std::string& end) {
  const int cf = owned_family(family);
  if (cf < 0) return error{"no column family " + std::string(family)};
  if (auto st = recover_if_failed(); !st) return st;
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  rocksdb::WriteBatch wb;
  wb.DeleteRange(impl_->cf[cf], begin, end);
  return apply(wb, {});
}

status store::flush() {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return error{unavailable()};
  if (options_.read_only) return ok_status();
  const auto st = impl_->db->Flush(rocksdb::FlushOptions(), impl_->cf);
  if (!st.ok()) return error{describe(options_.path, st)};
  return ok_status();
}

}  // namespace yuqing::storage
