#include "storage/records.h"

#include <nlohmann/json.hpp>

namespace yuqing::storage {

using nlohmann::json;

namespace {

json to_json(const kafka_position& p) {
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

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string hit_record::encode() const {
  json spans_j = json::array();
  for (const auto& s : spans)
    spans_j.push_back({{"field", s.field}, {"begin", s.begin}, {"end", s.end}, {"text", s.text}});
  return dump(json{{"topic", topic},
              {"time_ms", time_ms},
              {"message_key", message_key},
              {"set", set_id},
              {"set_version", set_version},
              {"rule", rule_id},
              {"severity", severity},
              {"plan_item", plan_item},
              {"channel", channel},
              {"kafka", to_json(source)},
              {"author", author},
              {"title", title},
              {"spans", spans_j}}
  );
}

std::optional<hit_record> hit_record::decode(const std::string& value) {
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
    return h;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string message_record::encode() const {
  json text_j = json::object();
  for (const auto& [k, v] : text) text_j[k] = v;
  return dump(json{{"key", key},
              {"channel", channel},
              {"kind", kind},
              {"kafka", to_json(source)},
              {"time_ms", time_ms},
              {"id", id},
              {"author", author},
              {"source", source_name},
              {"url", url},
              {"region", region},
              {"title", title},
              {"text", text_j}}
  );
}

std::optional<message_record> message_record::decode(const std::string& value) {
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
    const json text = j.value("text", json::object());
    for (const auto& [k, v] : text.items()) m.text.emplace_back(k, v);
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace yuqing::storage
