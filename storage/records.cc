#include "storage/records.h"

#include <nlohmann/json.hpp>

#include "common/json.h"

namespace yuqing::storage {

using nlohmann::json;

namespace {

json position_json(const kafka_position& p) {
  return {{"topic", p.topic}, {"partition", p.partition}, {"offset", p.offset}};
}

kafka_position position_from(const json& j) {
  kafka_position p;
  if (!j.contains("kafka")) return p;
  p.topic = j["kafka"].value("topic", "");
  p.partition = j["kafka"].value("partition", 0);
  p.offset = j["kafka"].value("offset", int64_t{0});
  return p;
}

// The stored form: a version byte, then each field in a fixed order: strings as varint
// length + bytes, integers as (zigzag) varints. Compact and about 10x cheaper than JSON.
constexpr char binary_version = 1;

struct writer {
  std::string& out;
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void str(std::string_view s) {
    u64(s.size());
    out.append(s);
  }
  void position(const kafka_position& p) {
    str(p.topic);
    i64(p.partition);
    i64(p.offset);
  }
};

struct reader {
  std::string_view in;
  bool ok = true;
  uint64_t u64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      const auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  int64_t i64() {
    const uint64_t z = u64();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  std::string str() {
    const uint64_t n = u64();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  kafka_position position() {
    kafka_position p;
    p.topic = str();
    p.partition = static_cast<int32_t>(i64());
    p.offset = i64();
    return p;
  }
};

using common::dump;

}  // namespace

std::string hit_record::to_json() const {
  json spans_j = json::array();
  for (const auto& s : spans)
    spans_j.push_back({{"field", s.field}, {"begin", s.begin}, {"end", s.end}, {"text", s.text}});
  json j{{"topic", topic},
              {"time_ms", time_ms},
              {"message_key", message_key},
              {"set", set_id},
              {"set_version", set_version},
              {"rule", rule_id},
              {"severity", severity},
              {"plan_item", plan_item},
              {"channel", channel},
              {"kafka", position_json(source)},
              {"author", author},
              {"title", title},
              {"spans", spans_j}};
  if (!boundary.empty()) j["boundary"] = boundary;
  return dump(j);
}

std::optional<hit_record> hit_record::from_json(const std::string& value) {
  try {
    const auto j = json::parse(value);
    hit_record h;
    h.topic = j.at("topic");
    h.time_ms = j.at("time_ms");
    h.message_key = j.at("message_key");
    h.set_id = j.at("set");
    h.set_version = j.value("set_version", "");
    h.rule_id = j.at("rule");
    h.severity = j.value("severity", "");
    h.plan_item = j.value("plan_item", 0);
    h.channel = j.value("channel", "");
    h.source = position_from(j);
    h.author = j.value("author", "");
    h.title = j.value("title", "");
    const json spans = j.value("spans", json::array());
    for (const auto& s : spans)
      h.spans.push_back({s.value("field", ""), s.value("begin", 0u), s.value("end", 0u),
                         s.value("text", "")});
    h.boundary = j.value("boundary", "");
    return h;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string message_record::to_json() const {
  json text_j = json::object();
  for (const auto& [k, v] : text) text_j[k] = v;
  return dump(json{{"key", key},
              {"channel", channel},
              {"kind", kind},
              {"kafka", position_json(source)},
              {"time_ms", time_ms},
              {"id", id},
              {"author", author},
              {"source", source_name},
              {"url", url},
              {"region", region},
              {"title", title},
              {"category", category},
              {"text", text_j}}
  );
}

std::optional<message_record> message_record::from_json(const std::string& value) {
  try {
    const auto j = json::parse(value);
    message_record m;
    m.key = j.at("key");
    m.channel = j.value("channel", "");
    m.kind = j.value("kind", "");
    m.source = position_from(j);
    m.time_ms = j.value("time_ms", int64_t{0});
    m.id = j.value("id", "");
    m.author = j.value("author", "");
    m.source_name = j.value("source", "");
    m.url = j.value("url", "");
    m.region = j.value("region", "");
    m.title = j.value("title", "");
    m.category = j.value("category", "");
    const json text = j.value("text", json::object());
    for (const auto& [k, v] : text.items()) m.text.emplace_back(k, v);
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string hit_record::encode() const {
  std::string out;
  encode_to(out);
  return out;
}

void hit_record::encode_to(std::string& out) const {
  out.reserve(out.size() + 128 + title.size());
  out += binary_version;
  writer w{out};
  w.str(topic);
  w.i64(time_ms);
  w.str(message_key);
  w.str(set_id);
  w.str(set_version);
  w.str(rule_id);
  w.str(severity);
  w.i64(plan_item);
  w.str(channel);
  w.position(source);
  w.str(author);
  w.str(title);
  w.u64(spans.size());
  for (const auto& s : spans) {
    w.str(s.field);
    w.u64(s.begin);
    w.u64(s.end);
    w.str(s.text);
  }
  if (!boundary.empty()) w.str(boundary);
}

std::optional<hit_record> hit_record::decode(std::string_view value) {
  if (value.empty() || value.front() != binary_version) return std::nullopt;
  reader r{value.substr(1)};
  hit_record h;
  h.topic = r.str();
  h.time_ms = r.i64();
  h.message_key = r.str();
  h.set_id = r.str();
  h.set_version = r.str();
  h.rule_id = r.str();
  h.severity = r.str();
  h.plan_item = static_cast<int>(r.i64());
  h.channel = r.str();
  h.source = r.position();
  h.author = r.str();
  h.title = r.str();
  const uint64_t n = r.u64();
  for (uint64_t i = 0; r.ok && i < n; ++i) {
    matched_span s;
    s.field = r.str();
    s.begin = static_cast<uint32_t>(r.u64());
    s.end = static_cast<uint32_t>(r.u64());
    s.text = r.str();
    h.spans.push_back(std::move(s));
  }
  if (r.ok && !r.in.empty()) h.boundary = r.str();
  if (!r.ok) return std::nullopt;
  return h;
}

std::string message_record::encode() const {
  std::string out;
  encode_to(out);
  return out;
}

void message_record::encode_to(std::string& out) const {
  size_t size = out.size() + 96 + key.size() + title.size();
  for (const auto& [k, v] : text) size += k.size() + v.size() + 4;
  out.reserve(size);
  out += binary_version;
  writer w{out};
  w.str(key);
  w.str(channel);
  w.str(kind);
  w.position(source);
  w.i64(time_ms);
  w.str(id);
  w.str(author);
  w.str(source_name);
  w.str(url);
  w.str(region);
  w.str(title);
  w.u64(text.size());
  for (const auto& [k, v] : text) {
    w.str(k);
    w.str(v);
  }
  w.str(category);  // added later: records without it end here
}

std::optional<message_record> message_record::decode(std::string_view value) {
  if (value.empty() || value.front() != binary_version) return std::nullopt;
  reader r{value.substr(1)};
  message_record m;
  m.key = r.str();
  m.channel = r.str();
  m.kind = r.str();
  m.source = r.position();
  m.time_ms = r.i64();
  m.id = r.str();
  m.author = r.str();
  m.source_name = r.str();
  m.url = r.str();
  m.region = r.str();
  m.title = r.str();
  const uint64_t n = r.u64();
  for (uint64_t i = 0; r.ok && i < n; ++i) {
    std::string k = r.str();
    m.text.emplace_back(std::move(k), r.str());
  }
  if (r.ok && !r.in.empty()) m.category = r.str();
  if (!r.ok) return std::nullopt;
  return m;
}

std::string set_version_record::to_json() const {
  return dump(json{{"set", set_id},       {"version", version}, {"loaded_ms", loaded_ms},
                   {"trigger", trigger},  {"file", file},       {"rules", rules},
                   {"literals", literals}, {"compile_ms", compile_ms},
                   {"from_cache", from_cache}, {"who", who}});
}

std::optional<set_version_record> set_version_record::from_json(const std::string& value) {
  try {
    const auto j = json::parse(value);
    set_version_record r;
    r.set_id = j.at("set");
    r.version = j.at("version");
    r.loaded_ms = j.at("loaded_ms");
    r.trigger = j.value("trigger", "");
    r.file = j.value("file", "");
    r.rules = j.value("rules", uint64_t{0});
    r.literals = j.value("literals", uint64_t{0});
    r.compile_ms = j.value("compile_ms", 0.0);
    r.from_cache = j.value("from_cache", false);
    r.who = j.value("who", "");
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace yuqing::storage
