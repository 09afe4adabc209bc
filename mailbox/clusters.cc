#include "mailbox/clusters.h"

#include <algorithm>
#include <limits>

#include "common/utf8.h"
#include "matchers/normalizer.h"

namespace yuqing::mailbox {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The 64 hash functions: h_k(x) = a_k * x + b_k (mod 2^32, a_k odd: a permutation of the
// bigram's well-mixed 32-bit hash), so one bigram costs 64 multiply-adds that vectorize.
struct hash_family {
  alignas(64) std::array<uint32_t, 64> a{}, b{};
  hash_family() {
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<uint32_t>(mix(0x9e3779b97f4a7c15ull * (2 * i + 1))) | 1u;
      b[i] = static_cast<uint32_t>(mix(0x9e3779b97f4a7c15ull * (2 * i + 2)));
    }
  }
};
const hash_family& family() {
  static const hash_family f;
  return f;
}

uint64_t band_hash(const signature& sig, int band) {
  uint64_t h = mix(static_cast<uint64_t>(band) + 1);
  for (int r = 0; r < 4; ++r) h = mix(h ^ sig[static_cast<size_t>(band * 4 + r)]);
  return h;
}

}  // namespace

signature sign(std::string_view text) {
  static const auto norm = matchers::normalizer::get(matchers::norm_width | matchers::norm_case |
                                                     matchers::norm_t2s | matchers::norm_noise);
  thread_local matchers::normalized_text n;
  norm->normalize(text, n);
  // Code points of the normalized text (bad bytes count as one unit each).
  thread_local std::vector<uint32_t> cps;
  cps.clear();
  for (size_t i = 0; i < n.text.size() && cps.size() < 2000;) {
    uint32_t cp = 0;
    int len = common::decode_utf8(n.text, i, cp);
    if (len <= 0) {
      cp = 0x110000u + static_cast<unsigned char>(n.text[i]);
      len = 1;
    }
    cps.push_back(cp);
    i += static_cast<size_t>(len);
  }
  signature sig;
  sig.fill(std::numeric_limits<uint32_t>::max());
  const auto& f = family();
  auto shingle = [&](uint64_t h) {
    const auto x = static_cast<uint32_t>(h >> 32);
    for (size_t k = 0; k < sig.size(); ++k) sig[k] = std::min(sig[k], f.a[k] * x + f.b[k]);
  };
  if (cps.size() == 1) shingle(mix(cps[0]));
  for (size_t i = 0; i + 1 < cps.size(); ++i) shingle(mix((uint64_t{cps[i]} << 21) ^ cps[i + 1]));
  return sig;
}

double similarity(const signature& a, const signature& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

uint64_t clusterer::best_cluster(const signature& sig, const uint64_t (&hashes)[bands]) const {
  thread_local std::vector<uint64_t> candidates;
  candidates.clear();
  for (int b = 0; b < bands; ++b) {
    auto it = buckets_.find(hashes[b]);
    if (it == buckets_.end()) continue;
    const auto& entries = it->second;
    const size_t n = std::min(entries.size(), options_.max_candidates);
    for (size_t i = 0; i < n; ++i) candidates.push_back(entries[i].cluster);
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  uint64_t best = 0;
  double best_sim = -1;
  for (uint64_t c : candidates) {
    const auto& state = clusters_.at(c);
    const double sim = std::max(similarity(sig, state.first_sig), similarity(sig, state.newest_sig));
    if (sim >= options_.similarity && sim > best_sim) {
      best_sim = sim;
      best = c;
    }
  }
  return best;
}

std::pair<uint64_t, size_t> clusterer::add(member m) {
  if (auto it = by_key_.find(m.key); it != by_key_.end()) {
    const uint64_t c = members_.at(it->second).cluster;
    return {c, size_of(c)};
  }
  uint64_t hashes[bands];
  for (int b = 0; b < bands; ++b) hashes[b] = band_hash(m.sig, b);
  const uint64_t best = best_cluster(m.sig, hashes);
  const uint64_t seq = next_seq_++;
  m.cluster = best ? best : seq;
  auto& c = clusters_[m.cluster];
  if (!best) {
    c.representative = m.excerpt;
    c.first_key = m.key;
    c.first_sig = m.sig;
  }
  c.newest_sig = m.sig;
  c.members.insert(seq);
  c.mailbox_members += m.mailbox;
  c.official_members += m.official;
  for (int b = 0; b < bands; ++b) {
    auto& entries = buckets_[hashes[b]];
    auto e = std::find_if(entries.begin(), entries.end(), [&](const bucket_entry& x) { return x.cluster == m.cluster; });
    if (e == entries.end()) entries.push_back({m.cluster, 1});
    else ++e->members;
  }
  by_time_.emplace(m.time_ms, seq);
  by_key_[m.key] = seq;
  const uint64_t cluster = m.cluster;
  members_.emplace(seq, std::move(m));
  return {cluster, c.members.size()};
}

void clusterer::forget(uint64_t seq) {
  auto it = members_.find(seq);
  if (it == members_.end()) return;
  const member& m = it->second;
  for (int b = 0; b < bands; ++b) {
    auto bucket = buckets_.find(band_hash(m.sig, b));
    if (bucket == buckets_.end()) continue;
    auto& entries = bucket->second;
    auto e = std::find_if(entries.begin(), entries.end(), [&](const bucket_entry& x) { return x.cluster == m.cluster; });
    if (e != entries.end() && --e->members == 0) {
      *e = entries.back();
      entries.pop_back();
    }
    if (entries.empty()) buckets_.erase(bucket);
  }
  auto c = clusters_.find(m.cluster);
  if (c != clusters_.end()) {
    c->second.members.erase(seq);
    c->second.mailbox_members -= m.mailbox;
    c->second.official_members -= m.official;
    if (c->second.members.empty()) clusters_.erase(c);
  }
  by_key_.erase(m.key);
  members_.erase(it);
}

size_t clusterer::expire(int64_t latest_ms) {
  const int64_t cutoff = latest_ms - options_.window_ms;
  size_t forgotten = 0;
  while (!by_time_.empty() &&
         (by_time_.begin()->first < cutoff || members_.size() > options_.max_tracked)) {
    forget(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
    ++forgotten;
  }
  return forgotten;
}

size_t clusterer::size_of(uint64_t cluster) const {
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : it->second.members.size();
}

size_t clusterer::mailbox_size_of(uint64_t cluster) const {
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : it->second.mailbox_members;
}

size_t clusterer::official_size_of(uint64_t cluster) const {
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : it->second.official_members;
}

std::vector<const clusterer::member*> clusterer::members_of(uint64_t cluster) const {
  std::vector<const member*> out;
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return out;
  for (uint64_t seq : it->second.members) out.push_back(&members_.at(seq));
  std::stable_sort(out.begin(), out.end(), [](const member* a, const member* b) { return a->time_ms < b->time_ms; });
  return out;
}

const std::string& clusterer::representative(uint64_t cluster) const {
  static const std::string none;
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? none : it->second.representative;
}

}  // namespace yuqing::mailbox

namespace yuqing::mailbox {

void clusterer::reserve() {
  buckets_.reserve(options_.max_tracked * bands);
  by_key_.reserve(options_.max_tracked);
}

uint64_t clusterer::cluster_of(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : members_.at(it->second).cluster;
}

const std::string& clusterer::first_key(uint64_t cluster) const {
  static const std::string none;
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? none : it->second.first_key;
}

}  // namespace yuqing::mailbox
