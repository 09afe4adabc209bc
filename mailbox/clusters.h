// clusters: near-duplicate messages (copy-pasted or lightly edited complaints) grouped
// into clusters, so that a concentrated issue is found by its text and not only by keyword.
//
// Operation: a message's text is normalized (width, case, traditional -> simplified,
// noise dropped), cut into character bigrams, and summarized by a MinHash signature of 64
// values. Locality-sensitive hashing (16 bands of 4 values) finds the candidate clusters:
// each band's bucket lists the clusters that have a member with that band, with a count,
// not the members themselves. A candidate is compared with its cluster's first and newest
// signatures, and the message joins the most similar cluster whose estimated Jaccard
// similarity reaches `similarity`, else it starts its own. So a copy-paste flood of 20,000
// identical posts costs each new copy one bucket entry per band, not 20,000 comparisons,
// and forgetting a member is indexed (no bucket is scanned member by member). Members older
// than the window (by message time) or beyond max_tracked (oldest first) are forgotten.
//
// Limitations: a message is compared with two signatures per candidate cluster (its first
// and its newest member), so a cluster that drifts by successive edits is followed through
// its newest member only; at most max_candidates clusters per bucket are compared.
//
// Threads: not thread-safe; the owner serializes calls. Errors: none (any text, even
// invalid UTF-8, has a signature).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace yuqing::mailbox {

using signature = std::array<uint32_t, 64>;

signature sign(std::string_view text);
// The estimated Jaccard similarity of the bigram sets of two signed texts.
double similarity(const signature& a, const signature& b);

struct cluster_options {
  double similarity = 0.5;
  int64_t window_ms = int64_t{7} * 24 * 3600 * 1000;
  size_t max_tracked = 100000;
  size_t max_candidates = 32;  // clusters compared per bucket
};

class clusterer {
 public:
  struct member {
    std::string key;  // message key
    int64_t time_ms = 0;
    std::string channel;
    bool mailbox = false;   // a governor's-mailbox message; else a post or news item
    bool official = false;  // from an official source: its cluster is reposts, not concern
    std::string topic;     // the first policy topic it hit; empty: none
    std::string excerpt;
    signature sig{};
    uint64_t cluster = 0;
  };

  explicit clusterer(cluster_options o = {}) : options_(o) {}
  // Sizes the tables for max_tracked members up front (no rehashing as they fill).
  void reserve();

  // Adds a message (a key already tracked is not added again) and returns its cluster and
  // the cluster's size.
  std::pair<uint64_t, size_t> add(member m);
  // Forgets members older than latest_ms - window, and the oldest beyond max_tracked;
  // returns how many it forgot.
  size_t expire(int64_t latest_ms);

  size_t size_of(uint64_t cluster) const;
  // Members of a cluster that are mailbox messages, and that come from official sources.
  size_t mailbox_size_of(uint64_t cluster) const;
  size_t official_size_of(uint64_t cluster) const;
  // The cluster of a tracked message; 0 when it is not tracked.
  uint64_t cluster_of(const std::string& key) const;
  // Members of a cluster, oldest first; the first one added is its representative.
  std::vector<const member*> members_of(uint64_t cluster) const;
  const std::string& representative(uint64_t cluster) const;
  const std::string& first_key(uint64_t cluster) const;
  size_t tracked() const { return members_.size(); }
  size_t clusters() const { return clusters_.size(); }

 private:
  struct cluster_state {
    std::set<uint64_t> members;  // by sequence
    size_t mailbox_members = 0, official_members = 0;
    std::string representative;  // excerpt of its first member
    std::string first_key;       // message key of its first member: names it across restarts
    signature first_sig{}, newest_sig{};  // what a new message is compared with
  };
  struct bucket_entry {  // a cluster with `members` members in one band's bucket
    uint64_t cluster;
    uint32_t members;
  };
  static constexpr int bands = 16, rows = 4;
  // The most similar candidate cluster at or above the threshold; 0: none.
  uint64_t best_cluster(const signature& sig, const uint64_t (&hashes)[bands]) const;
  void forget(uint64_t seq);
  cluster_options options_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, member> members_;                 // by sequence
  std::multimap<int64_t, uint64_t> by_time_;           // message time -> sequence
  std::unordered_map<std::string, uint64_t> by_key_;
  std::unordered_map<uint64_t, std::vector<bucket_entry>> buckets_;  // band hash -> clusters
  std::map<uint64_t, cluster_state> clusters_;
};

}  // namespace yuqing::mailbox
