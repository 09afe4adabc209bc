#include "sets/probe.h"

namespace yuqing::sets {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

probe::probe(metrics::registry& m) {
  auto& r = m.prometheus_registry();
  sets_ = &BuildGauge().Name("yuqing_keyword_sets_loaded").Help("Keyword sets in force")
               .Register(r).Add({});
  auto& reloads = BuildCounter().Name("yuqing_keyword_set_reloads_total")
                      .Help("Keyword-set reloads by result").Register(r);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "failed"}});
  compile_seconds_ = &BuildHistogram().Name("yuqing_keyword_set_compile_seconds")
                          .Help("Time to load one new keyword-set version (compile or cache)")
                          .Register(r)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120});
  set_rules_ = &BuildGauge().Name("yuqing_keyword_set_rules")
                    .Help("Rules of each keyword set in force").Register(r);
  set_loaded_ = &BuildGauge().Name("yuqing_keyword_set_loaded_timestamp_seconds")
                     .Help("When the version in force of each keyword set was loaded")
                     .Register(r);
  set_version_ = &BuildGauge().Name("yuqing_keyword_set_version_info")
                      .Help("The version (content hash) in force of each keyword set (value 1)")
                      .Register(r);
}

void probe::set_in_force(const std::string& set, const std::string& version, size_t rules,
                             int64_t loaded_ms) {
  std::lock_guard lock(mu_);
  auto& g = per_set_[set];
  if (!g.rules) {
    g.rules = &set_rules_->Add({{"set", set}});
    g.loaded = &set_loaded_->Add({{"set", set}});
  }
  if (!g.version || g.version_label != version) {
    if (g.version) set_version_->Remove(g.version);
    g.version = &set_version_->Add({{"set", set}, {"version", version}});
    g.version->Set(1);
    g.version_label = version;
  }
  g.rules->Set(static_cast<double>(rules));
  g.loaded->Set(static_cast<double>(loaded_ms) / 1000.0);
}

void probe::set_removed(const std::string& set) {
  std::lock_guard lock(mu_);
  auto it = per_set_.find(set);
  if (it == per_set_.end()) return;
  set_rules_->Remove(it->second.rules);
  set_loaded_->Remove(it->second.loaded);
  set_version_->Remove(it->second.version);
  per_set_.erase(it);
}

}  // namespace yuqing::sets
