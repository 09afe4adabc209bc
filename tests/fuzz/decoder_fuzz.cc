// Fuzz target: the message decoder (JSON and plain-text channels). Any payload is decoded
// or refused with a reason; a decoded message has at least one text field.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/decoder.h"

using namespace yuqing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const config::channel json_channel = [] {
    config::channel c;
    c.name = "posts";
    c.topic = "t";
    c.fields.text = {"/title", "/content", "/body/text"};
    return c;
  }();
  static const config::channel text_channel = [] {
    config::channel c;
    c.name = "plain";
    c.topic = "p";
    c.format = config::channel_format::text;
    return c;
  }();
  static ingest::decoder json_decoder(json_channel, 4096);
  static ingest::decoder text_decoder(text_channel, 4096);
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  for (auto* d : {&json_decoder, &text_decoder}) {
    storage::message_record rec;
    const auto err = d->decode(payload, {"t", 0, 42}, 1000, rec);
    if (err == ingest::decode_error::none && rec.text.empty()) std::abort();
    if (err == ingest::decode_error::none && rec.key.empty()) std::abort();
  }
  return 0;
}
