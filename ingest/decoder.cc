#include "ingest/decoder.h"

#include <algorithm>

#include <cstdio>
#include <ctime>

#include "common/utf8.h"

namespace yuqing::ingest {
namespace {

// "/a/b" -> "a.b": the field name stored with the text.
std::string field_name(const std::string& pointer) {
  std::string s = pointer.substr(pointer.empty() || pointer[0] != '/' ? 0 : 1);
  for (char& c : s)
    if (c == '/') c = '.';
  return s;
}

// A scalar at a JSON pointer as text; false when absent, null or not a scalar.
bool scalar_at(const simdjson::dom::element& doc, const std::string& pointer, std::string& out) {
  if (pointer.empty()) return false;
  simdjson::dom::element e;
  if (doc.at_pointer(pointer).get(e) != simdjson::SUCCESS) return false;
  std::string_view sv;
  int64_t i;
  uint64_t u;
  double d;
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      if (e.get_string().get(sv) != simdjson::SUCCESS) return false;
      out.assign(sv);
      return true;
    case simdjson::dom::element_type::INT64:
      if (e.get_int64().get(i) != simdjson::SUCCESS) return false;
      out = std::to_string(i);
      return true;
    case simdjson::dom::element_type::UINT64:
      if (e.get_uint64().get(u) != simdjson::SUCCESS) return false;
      out = std::to_string(u);
      return true;
    case simdjson::dom::element_type::DOUBLE:
      if (e.get_double().get(d) != simdjson::SUCCESS) return false;
      out = std::to_string(d);
      return true;
    default:
      return false;
  }
}

// A text field at a JSON pointer: a string, or an array of strings joined with newlines.
enum class text_field { absent, found, wrong_type };
text_field text_at(const simdjson::dom::element& doc, const std::string& pointer, std::string& out) {
  simdjson::dom::element e;
  if (pointer.empty() || doc.at_pointer(pointer).get(e) != simdjson::SUCCESS || e.is_null())
    return text_field::absent;
  std::string_view sv;
  if (e.get_string().get(sv) == simdjson::SUCCESS) {
    out.assign(sv);
    return text_field::found;
  }
  simdjson::dom::array parts;
  if (e.get_array().get(parts) != simdjson::SUCCESS) return text_field::wrong_type;
  out.clear();
  bool first = true;
  for (simdjson::dom::element part : parts) {
    if (part.get_string().get(sv) != simdjson::SUCCESS) return text_field::wrong_type;
    if (!first) out += '\n';
    out.append(sv);
    first = false;
  }
  return text_field::found;
}

}  // namespace

const char* to_string(decode_error e) {
  switch (e) {
    case decode_error::none: return "none";
    case decode_error::empty: return "empty";
    case decode_error::oversize: return "oversize";
    case decode_error::invalid_json: return "invalid_json";
    case decode_error::invalid_utf8: return "invalid_utf8";
    case decode_error::missing_text: return "missing_text";
    case decode_error::missing_id: return "missing_id";
    case decode_error::wrong_type: return "wrong_type";
  }
  return "?";
}

std::string message_key(const storage::kafka_position& pos, std::string_view id) {
  std::string key;
  key.reserve(pos.topic.size() + 1 + (id.empty() ? 32 : id.size()));
  key += pos.topic;
  if (!id.empty()) {
    key += '/';
    key += id;
  } else {
    key += '@';
    key += std::to_string(pos.partition);
    key += ':';
    key += std::to_string(pos.offset);
  }
  return key;
}

decode_error decoder::decode(std::string_view payload, const storage::kafka_position& pos,
                             int64_t kafka_time_ms, storage::message_record& out) {
  out = storage::message_record{};
  out.channel = channel_.name;
  out.kind = config::to_string(channel_.kind);
  out.source = pos;
  out.time_ms = kafka_time_ms;
  if (payload.empty()) return decode_error::empty;
  if (static_cast<int64_t>(payload.size()) > max_bytes_) return decode_error::oversize;

  if (channel_.format == config::channel_format::text) {
    if (!common::is_valid_utf8(payload)) return decode_error::invalid_utf8;
    out.key = message_key(pos, {});
    out.text.emplace_back("content", std::string(payload));
    return decode_error::none;
  }

  simdjson::dom::element doc;
  const auto err = parser_.parse(payload.data(), payload.size()).get(doc);
  if (err == simdjson::UTF8_ERROR) return decode_error::invalid_utf8;
  if (err != simdjson::SUCCESS || !doc.is_object()) return decode_error::invalid_json;

  const auto& f = channel_.fields;
  scalar_at(doc, f.id, out.id);
  scalar_at(doc, f.author, out.author);
  scalar_at(doc, f.source, out.source_name);
  scalar_at(doc, f.url, out.url);
  scalar_at(doc, f.region, out.region);
  scalar_at(doc, f.title, out.title);
  scalar_at(doc, f.category, out.category);
  std::string t;
  if (scalar_at(doc, f.time, t)) {
    int64_t ms;
    if (common::parse_rfc3339(t, ms)) out.time_ms = ms;
  }
  for (const auto& p : f.text) {
    std::string text;
    const auto found = text_at(doc, p, text);
    if (found == text_field::wrong_type) return decode_error::wrong_type;
    if (found == text_field::found) out.text.emplace_back(field_name(p), std::move(text));
  }
  if (out.text.empty()) return decode_error::missing_text;
  // A reply names the message it answers: without an id it cannot close any case.
  if (channel_.kind == config::channel_kind::mailbox_reply && out.id.empty()) return decode_error::missing_id;
  out.key = message_key(pos, out.id);
  return decode_error::none;
}

}  // namespace yuqing::ingest
