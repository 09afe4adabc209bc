#include "ingest/pipeline.h"

#include <pthread.h>

#include <chrono>

namespace yuqing::ingest {

batch_builder::batch_builder(const config::daemon_config& cfg)
    : max_skew_ms_(int64_t{cfg.max_clock_skew_seconds} * 1000) {
  for (size_t i = 0; i < cfg.channels.size(); ++i) {
    channel_of_[cfg.channels[i].topic] = i;
    decoders_.emplace_back(cfg.channels[i], cfg.max_message_bytes);
  }
}

namespace {

size_t hash_text(const storage::message_record& rec) {
  size_t h = 0;
  for (const auto& [name, text] : rec.text)
    h = h * 1000003u ^ std::hash<std::string>{}(name) * 31u ^ std::hash<std::string>{}(text);
  return h;
}

bool same_position(const storage::kafka_position& a, const storage::kafka_position& b) {
  return a.topic == b.topic && a.partition == b.partition && a.offset == b.offset;
}

}  // namespace

bool batch_builder::place(storage::message_record& rec, size_t channel, build_stats& stats) {
  const size_t h = hash_text(rec);
  std::optional<bool> same_text;  // nullopt: a new id, or a replay
  const seen* before = nullptr;
  if (auto it = this_batch_.find(rec.key); it != this_batch_.end()) before = &it->second;
  else if (auto at = batch_before_.find(rec.key); at != batch_before_.end()) before = &at->second;
  if (before) {
    if (!same_position(before->source, rec.source)) same_text = before->text_hash == h;
  } else if (auto stored = lookup_(rec.key); stored && !same_position(stored->source, rec.source)) {
    same_text = stored->text == rec.text;
  }
  if (!same_text) {
    this_batch_[rec.key] = {rec.source, h};
    return true;
  }
  stats.repeats.push_back({channel, !*same_text});
  if (*same_text) return false;
  rec.key += "~" + std::to_string(rec.source.partition) + ":" + std::to_string(rec.source.offset);
  return true;
}

int batch_builder::channel_of(std::string_view topic) const {
  const auto it = channel_of_.find(topic);
  return it == channel_of_.end() ? -1 : static_cast<int>(it->second);
}

build_stats batch_builder::build(const std::vector<raw_message>& messages, const matchers::matcher& m,
                                 int64_t now_ms, storage::batch& out,
                                 std::vector<rejected_message>& rejected,
                                 std::vector<double>* latency_seconds,
                                 std::vector<alerting::hit_event>* events) {
  // Three passes: decode, match (timed as a whole: two clock reads a batch, not two a
  // message), then the records of the hits.
  build_stats stats;
  const size_t first = out.messages.size();
  decode_all(messages, now_ms, out, rejected, latency_seconds, stats);
  match_all(m, out, first, stats);
  record_hits(out, first, events);
  return stats;
}

void batch_builder::decode_all(const std::vector<raw_message>& messages, int64_t now_ms, storage::batch& out,
                               std::vector<rejected_message>& rejected, std::vector<double>* latency_seconds,
                               build_stats& stats) {
  std::map<std::pair<std::string_view, int32_t>, int64_t> next;
  batch_before_.swap(this_batch_);
  this_batch_.clear();
  out.messages.reserve(out.messages.size() + messages.size());  // no regrowth moving the records
  for (size_t i = 0; i < messages.size(); ++i) {
    const raw_message& msg = messages[i];
    next[{msg.topic, msg.partition}] = msg.offset + 1;
    const int ch = channel_of(msg.topic);
    if (ch < 0) continue;  // not a channel topic: only its offset moves
    const int64_t ts = msg.timestamp_ms >= 0 ? msg.timestamp_ms : now_ms;
    storage::message_record rec;
    const auto err = decoders_[ch].decode(msg.payload, {std::string(msg.topic), msg.partition, msg.offset},
                                          ts, rec);
    if (err != decode_error::none) {
      rejected.push_back({i, static_cast<size_t>(ch), err});
      continue;
    }
    if (latency_seconds) latency_seconds->push_back(static_cast<double>(now_ms - ts) / 1000.0);
    if (lookup_ && !rec.id.empty() && !place(rec, static_cast<size_t>(ch), stats)) continue;
    if (rec.time_ms > now_ms + max_skew_ms_) stats.future.emplace_back(static_cast<size_t>(ch), out.messages.size());
    out.messages.push_back(std::move(rec));
  }
  for (const auto& [tp, off] : next) out.offsets.push_back({std::string(tp.first), tp.second, off});
}

void batch_builder::match_all(const matchers::matcher& m, const storage::batch& out, size_t first,
                              build_stats& stats) {
  found_all_.clear();
  found_end_.clear();
  fields_.clear();
  field_begin_.assign(1, 0);
  for (size_t k = first; k < out.messages.size(); ++k) {
    for (const auto& [name, text] : out.messages[k].text) {
      fields_.push_back(text);
      stats.bytes_scanned += text.size();
    }
    field_begin_.push_back(fields_.size());
  }
  const auto t0 = std::chrono::steady_clock::now();
  m.append_batch(fields_, field_begin_, found_all_, found_end_);
  stats.match_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

// Appends hit h of message rec to the hit events: a new event for a new (message, set).
void append_event(std::vector<alerting::hit_event>& events, const storage::message_record& rec,
                  const matchers::hit& h) {
  if (events.empty() || events.back().message_key != rec.key || events.back().set_id != h.set_id) {
    alerting::hit_event e;
    e.topic = h.topic;
    e.set_id = h.set_id;
    e.set_version = h.set_version;
    e.plan_item = h.plan_item;
    e.set_message(rec);
    events.push_back(std::move(e));
  }
  const uint32_t f = h.spans.empty() ? 0 : h.spans.front().field;
  events.back().rules.push_back(
      {std::string(h.rule_id), h.level,
       f < rec.text.size() ? matchers::highlight(rec.text[f].second, h.spans, f, "【", "】", 40) : ""});
}

storage::hit_record hit_record_of(const storage::message_record& rec, const matchers::hit& h) {
  storage::hit_record r;
  r.topic = h.topic;
  r.time_ms = rec.time_ms;
  r.message_key = rec.key;
  r.set_id = h.set_id;
  r.set_version = h.set_version;
  r.rule_id = h.rule_id;
  r.severity = matchers::to_string(h.level);
  r.plan_item = h.plan_item;
  r.channel = rec.channel;
  r.source = rec.source;
  r.author = rec.author;
  r.title = rec.title;
  r.boundary = segment::to_string(h.boundary);
  for (const auto& s : h.spans) {
    const auto& [name, text] = rec.text[s.field];
    r.spans.push_back({name, s.begin, s.end, text.substr(s.begin, s.end - s.begin)});
  }
  return r;
}

}  // namespace

void batch_builder::record_hits(storage::batch& out, size_t first, std::vector<alerting::hit_event>* events) const {
  out.hits.reserve(out.hits.size() + found_all_.size());
  for (size_t k = first, h_at = 0; k < out.messages.size(); ++k) {
    const storage::message_record& rec = out.messages[k];
    for (; h_at < found_end_[k - first]; ++h_at) {
      if (events) append_event(*events, rec, found_all_[h_at]);
      out.hits.push_back(hit_record_of(rec, found_all_[h_at]));
    }
  }
}

batch_writer::batch_writer(storage::store& store) : store_(store), thread_([this] { run(); }) {}

batch_writer::~batch_writer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void batch_writer::submit(const storage::batch& b) {
  {
    std::lock_guard lock(mu_);
    job_ = &b;
    done_.reset();
  }
  in_flight_ = true;
  cv_.notify_all();
}

bool batch_writer::done() {
  std::lock_guard lock(mu_);
  return done_.has_value();
}

status batch_writer::wait(double* seconds) {
  if (!in_flight_) return ok_status();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return done_.has_value(); });
  in_flight_ = false;
  if (seconds) *seconds = seconds_;
  status st = std::move(*done_);
  done_.reset();
  return st;
}

void batch_writer::run() {
  pthread_setname_np(pthread_self(), "yuqing-writer");  // tells it apart in top and perf
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || job_ != nullptr; });
    if (job_ == nullptr) return;  // stopping with nothing to write
    const storage::batch* b = job_;
    job_ = nullptr;
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    status st = store_.write(*b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    lock.lock();
    seconds_ = s;
    done_ = std::move(st);
    cv_.notify_all();
  }
}

}  // namespace yuqing::ingest
