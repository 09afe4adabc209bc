#include "daemon/pipeline.h"

namespace yuqing::daemon {

batch_builder::batch_builder(const config::daemon_config& cfg) {
  for (size_t i = 0; i < cfg.channels.size(); ++i) {
    channel_of_[cfg.channels[i].topic] = i;
    decoders_.emplace_back(cfg.channels[i], cfg.max_message_bytes);
  }
}

int batch_builder::channel_of(std::string_view topic) const {
  const auto it = channel_of_.find(topic);
  return it == channel_of_.end() ? -1 : static_cast<int>(it->second);
}

void batch_builder::build(const std::vector<raw_message>& messages, const matchers::matcher& m,
                          int64_t now_ms, storage::batch& out,
                          std::vector<rejected_message>& rejected,
                          const std::function<void(double)>& latency_seconds) {
  std::map<std::pair<std::string_view, int32_t>, int64_t> next;
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
    if (latency_seconds) latency_seconds(static_cast<double>(now_ms - ts) / 1000.0);
    fields_.clear();
    for (const auto& [name, text] : rec.text) fields_.push_back(text);
    m.match(fields_, found_);
    for (const auto& h : found_) {
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
      for (const auto& s : h.spans) {
        const auto& [name, text] = rec.text[s.field];
        r.spans.push_back({name, s.begin, s.end, text.substr(s.begin, s.end - s.begin)});
      }
      out.hits.push_back(std::move(r));
    }
    out.messages.push_back(std::move(rec));
  }
  for (const auto& [tp, off] : next) out.offsets.push_back({std::string(tp.first), tp.second, off});
}

}  // namespace yuqing::daemon
