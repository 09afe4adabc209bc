#include "risk/risk.h"

#include <algorithm>
#include <set>

#include "risk/engine_state.h"

namespace yuqing::risk {

using detail::cached;
using detail::day_ms;
using detail::never;
using detail::series_key;
using detail::series_state;

const char* to_string(level l) {
  switch (l) {
    case level::medium: return "medium";
    case level::high: return "high";
    case level::very_high: return "very_high";
    default: return "low";
  }
}

const char* to_chinese(level l) {
  switch (l) {
    case level::medium: return "中";
    case level::high: return "高";
    case level::very_high: return "极高";
    default: return "低";
  }
}

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

struct engine::impl {
  impl(const options& opts, std::shared_ptr<const lexicon> l, gazetteer g)
      : o(opts), lex(std::move(l)), gaz(std::move(g)), calc(o, lex != nullptr) {}
  const options o;
  mutable std::mutex mu;
  std::shared_ptr<const lexicon> lex;
  gazetteer gaz;
  detail::calculator calc;
  mutable std::map<series_key, series_state> series;  // walks fill the caches from const queries
  std::map<std::string, std::shared_ptr<detail::mailbox_case>> cases;  // by message id
  std::map<std::string, std::vector<series_key>> case_series;           // by message id
  std::map<std::string, int64_t> replies;                               // id -> earliest reply
  int64_t newest = 0, earliest_step = never;
  uint64_t ignored = 0;

  void prune();
  int64_t history_step() const;  // the first step kept
  // Counts a message in its series; false when it is older than the history kept.
  bool count(const std::string& key, int64_t time_ms, const std::set<std::string>& topics, const std::string& region,
             const detail::observed& what);
  // Opens a mailbox case in its series; false when known or older than risk.mailbox_days.
  bool open_case(const std::string& id, int64_t received_ms, int64_t deadline_ms, const std::set<std::string>& topics,
                 const std::string& region);
  void reply(const std::string& id, int64_t time_ms);
  // Walks the series' levels up to boundary b (from where its cache is still valid).
  void walk(series_state& s, int64_t b) const;
  reading reading_at(const series_key& k, series_state& s, int64_t b) const;
  bool matches(const series_key& k, const query& q) const {
    return (q.topic.empty() || q.topic == k.first) && (q.region.empty() || q.region == k.second);
  }
  int64_t first_boundary(const series_state& s) const;
  int64_t current_boundary() const { return floor_div(newest, o.step_ms) + 1; }
};

engine::engine(options o, std::shared_ptr<const lexicon> lex, gazetteer gaz)
    : options_(std::move(o)) {
  if (options_.step_ms <= 0) options_.step_ms = 60 * 1000;
  if (options_.window_ms < options_.step_ms) options_.window_ms = options_.step_ms;
  impl_ = std::make_shared<impl>(options_, std::move(lex), std::move(gaz));
}

namespace {

std::string joined_text(const storage::message_record& m) {
  std::string t;
  for (const auto& [field, text] : m.text) t += (t.empty() ? "" : "\n") + text;
  return t;
}

// An edited version ("key~partition:offset") is the same message.
std::string base_key(const std::string& key) { return key.substr(0, key.find('~')); }

}  // namespace

assessment engine::tendency_of(const storage::message_record& m) const {
  return assess(impl_->lex.get(), joined_text(m));
}

std::string engine::region_of(const storage::message_record& m) const {
  return impl_->gaz.place(m.region, joined_text(m));
}

std::shared_ptr<const lexicon> engine::lexicon_in_force() const { return impl_->lex; }

void engine::observe(const storage::batch& b) {
  std::map<std::string, std::set<std::string>> topics;  // message key -> topics it hit
  for (const auto& h : b.hits) topics[h.message_key].insert(h.topic);
  std::lock_guard lk(impl_->mu);
  auto& st = *impl_;
  for (const auto& m : b.messages) {
    if (m.kind == "mailbox-reply") {
      st.reply(m.id, m.time_ms);
      continue;
    }
    auto t = topics.find(m.key);
    if (t == topics.end()) continue;
    std::string region = st.gaz.place(m.region, joined_text(m));
    if (region.empty()) region = unplaced;
    const detail::observed o{m.author, m.channel, m.source_name, assess(st.lex.get(), joined_text(m)).t};
    const bool counted = st.count(base_key(m.key), m.time_ms, t->second, region, o);
    const bool opened = m.kind == "mailbox" && !m.id.empty() &&
                        st.open_case(m.id, m.time_ms, options_.deadline ? options_.deadline(m.category, m.time_ms)
                                                                        : m.time_ms + 15 * day_ms,
                                     t->second, region);
    if (!counted && !opened) ++st.ignored;
  }
  st.prune();
}

void engine::add_case(const std::string& id, int64_t received_ms, int64_t deadline_ms,
                      const std::set<std::string>& topics, const std::string& region_field, const std::string& text,
                      std::optional<int64_t> replied_ms) {
  std::lock_guard lk(impl_->mu);
  auto& st = *impl_;
  std::string region = st.gaz.place(region_field, text);
  if (region.empty()) region = unplaced;
  st.open_case(id, received_ms, deadline_ms, topics, region);
  if (replied_ms) st.reply(id, *replied_ms);
  st.prune();
}

int64_t engine::impl::history_step() const {
  return floor_div(newest, o.step_ms) - (o.baseline_days + 1) * (day_ms / o.step_ms);
}

bool engine::impl::count(const std::string& key, int64_t time_ms, const std::set<std::string>& topics,
                         const std::string& region, const detail::observed& what) {
  const int64_t s = floor_div(time_ms, o.step_ms);
  newest = std::max(newest, time_ms);
  const int64_t h = history_step();
  if (s < h) return false;  // older than the history kept
  if (s < earliest_step) {
    for (auto& [k, x] : series) x.dirty(std::max(s, h) + 1);
    earliest_step = s;
  }
  for (const auto& topic : topics)
    for (const auto& k : {series_key{topic, all_regions}, series_key{topic, region}}) {
      auto& x = series[k];
      x.cells[s].emplace(key, what);
      x.dirty(s + 1);
    }
  return true;
}

bool engine::impl::open_case(const std::string& id, int64_t received_ms, int64_t deadline_ms,
                             const std::set<std::string>& topics, const std::string& region) {
  if (received_ms < newest - o.mailbox_days * day_ms || cases.count(id)) return false;
  auto c = std::make_shared<detail::mailbox_case>();
  c->received_ms = received_ms;
  c->deadline_ms = deadline_ms;
  if (auto r = replies.find(id); r != replies.end()) c->replied_ms = r->second;
  cases[id] = c;
  const int64_t from = std::max(floor_div(received_ms, o.step_ms), history_step()) + 1;
  for (const auto& topic : topics)
    for (const auto& k : {series_key{topic, all_regions}, series_key{topic, region}}) {
      auto& x = series[k];
      x.cases.push_back(c);
      x.dirty(from);
      case_series[id].push_back(k);
    }
  return true;
}

void engine::impl::reply(const std::string& id, int64_t time_ms) {
  if (time_ms < newest - o.mailbox_days * day_ms) return;
  auto [it, fresh] = replies.emplace(id, time_ms);
  if (!fresh && it->second <= time_ms) return;
  it->second = time_ms;
  auto c = cases.find(id);
  if (c == cases.end()) return;
  c->second->replied_ms = std::min(c->second->replied_ms, time_ms);
  const int64_t from = std::max(floor_div(time_ms, o.step_ms), history_step()) + 1;
  for (const auto& k : case_series[id]) series[k].dirty(from);
}

void engine::impl::prune() {
  const int64_t h = history_step();
  for (auto it = series.begin(); it != series.end();) {
    auto& s = it->second;
    s.cells.erase(s.cells.begin(), s.cells.lower_bound(h));
    if (s.cache.size() > 1) s.cache.erase(s.cache.begin(), s.cache.lower_bound(std::min(h, s.cache.rbegin()->first)));
    std::erase_if(s.cases, [&](const auto& c) { return c->received_ms < newest - o.mailbox_days * day_ms; });
    it = (s.cells.empty() && s.cases.empty()) ? series.erase(it) : std::next(it);
  }
  const int64_t case_horizon = newest - o.mailbox_days * day_ms;
  std::erase_if(cases, [&](const auto& kv) {
    if (kv.second->received_ms >= case_horizon) return false;
    case_series.erase(kv.first);
    return true;
  });
  std::erase_if(replies, [&](const auto& kv) { return kv.second < case_horizon; });
}

int64_t engine::impl::first_boundary(const series_state& s) const {
  int64_t first = s.cells.empty() ? never : s.cells.begin()->first + 1;
  for (const auto& c : s.cases) first = std::min(first, floor_div(c->received_ms, o.step_ms) + 1);
  return first;
}

void engine::impl::walk(series_state& s, int64_t b) const {
  if (s.dirty_from != never) {
    s.cache.erase(s.cache.lower_bound(s.dirty_from), s.cache.end());
    s.dirty_from = never;
  }
  int64_t from = first_boundary(s);
  cached prev;
  if (!s.cache.empty()) {
    from = s.cache.rbegin()->first + 1;
    prev = s.cache.rbegin()->second;
  }
  for (int64_t x = from; x <= b; ++x) {
    prev = calc.next(prev, calc.compute(s, x, earliest_step).value);
    s.cache[x] = prev;
  }
}

reading engine::impl::reading_at(const series_key& k, series_state& s, int64_t b) const {
  walk(s, b);
  reading r = calc.compute(s, b, earliest_step);
  r.topic = k.first, r.region = k.second;
  if (auto it = s.cache.find(b); it != s.cache.end()) r.lvl = it->second.lvl;
  return r;
}

namespace {

// Topic, then 全市, then the regions by name, 未知 last.
bool row_order(const reading& a, const reading& b) {
  auto rank = [](const std::string& r) { return r == all_regions ? 0 : r == unplaced ? 2 : 1; };
  if (a.topic != b.topic) return a.topic < b.topic;
  if (rank(a.region) != rank(b.region)) return rank(a.region) < rank(b.region);
  return a.region < b.region;
}

}  // namespace

std::vector<reading> engine::current(const query& q) const {
  std::lock_guard lk(impl_->mu);
  if (impl_->series.empty()) return {};
  return at_locked(impl_->current_boundary() * options_.step_ms, q);
}

std::vector<reading> engine::at(int64_t at_ms, const query& q) const {
  std::lock_guard lk(impl_->mu);
  return at_locked(at_ms, q);
}

std::vector<reading> engine::at_locked(int64_t at_ms, const query& q) const {
  std::vector<reading> out;
  const int64_t b = floor_div(at_ms, options_.step_ms);
  for (auto& [k, s] : impl_->series)
    if (impl_->matches(k, q) && impl_->first_boundary(s) <= b) out.push_back(impl_->reading_at(k, s, b));
  std::sort(out.begin(), out.end(), row_order);
  return out;
}

std::vector<reading> engine::series(const std::string& topic, const std::string& region, int64_t from_ms,
                                    int64_t to_ms) const {
  std::lock_guard lk(impl_->mu);
  std::vector<reading> out;
  auto it = impl_->series.find({topic, region});
  if (it == impl_->series.end()) return out;
  const int64_t step = options_.step_ms;
  const int64_t first = std::max(floor_div(from_ms, step) + 1, impl_->first_boundary(it->second));
  const int64_t last = floor_div(to_ms, step);
  for (int64_t b = first; b <= last && out.size() < max_series_points; ++b)
    out.push_back(impl_->reading_at(it->first, it->second, b));
  return out;
}

snapshot engine::snapshot_of(int64_t from_ms, int64_t to_ms, const query& q) const {
  std::lock_guard lk(impl_->mu);
  snapshot out;
  out.from_ms = from_ms, out.to_ms = to_ms;
  const int64_t step = options_.step_ms;
  const int64_t bfrom = floor_div(from_ms, step);
  const int64_t bto = std::min(floor_div(to_ms, step), impl_->current_boundary());
  for (auto& [k, s] : impl_->series) {
    const int64_t first = impl_->first_boundary(s);
    if (!impl_->matches(k, q) || first > bto) continue;
    snapshot_row row;
    row.now = impl_->reading_at(k, s, bto);
    if (first <= bfrom && (s.cache.empty() || s.cache.begin()->first <= bfrom))
      row.previous = impl_->reading_at(k, s, bfrom);
    for (auto it = s.cache.upper_bound(bfrom); it != s.cache.end() && it->first <= bto; ++it)
      if (it->second.value > row.peak || row.peak_ms == 0) {
        row.peak = it->second.value, row.peak_ms = it->first * step, row.peak_level = it->second.lvl;
      }
    out.rows.push_back(std::move(row));
  }
  std::sort(out.rows.begin(), out.rows.end(),
            [](const snapshot_row& a, const snapshot_row& b) { return row_order(a.now, b.now); });
  return out;
}

int64_t engine::newest_ms() const {
  std::lock_guard lk(impl_->mu);
  return impl_->newest;
}

uint64_t engine::ignored_old() const {
  std::lock_guard lk(impl_->mu);
  return impl_->ignored;
}

std::vector<std::string> engine::topics() const {
  std::lock_guard lk(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [k, s] : impl_->series)
    if (out.empty() || out.back() != k.first) out.push_back(k.first);
  return out;
}

}  // namespace yuqing::risk
