// Fuzz target: the normalizer. The first byte picks the options; the rest is the text.
// Checks the invariants span mapping relies on: the origin of every output byte never
// decreases and stays inside the input, the end maps to the input's end; every span maps
// inside the input. And that the vector path (where the CPU has it) gives the scalar
// path's text and origins.
#include <cstdint>
#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "matchers/normalizer.h"

using namespace yuqing::matchers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint32_t flags = data[0] & 0x3F;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto norm = normalizer::get(flags);
  normalized_text out;
  norm->normalize(in, out);
  static std::array<std::unique_ptr<normalizer>, 64> scalar;  // built on first use
  if (!scalar[flags]) scalar[flags] = std::make_unique<normalizer>(flags, false);
  normalized_text reference;
  scalar[flags]->normalize(in, reference);
  if (reference.text != out.text) std::abort();
  for (size_t i = 0; i <= out.text.size(); ++i)
    if (reference.origin(i) != out.origin(i)) std::abort();
  if (out.origin(out.text.size()) != in.size()) std::abort();
  for (size_t i = 0; i < out.text.size(); ++i) {
    if (out.origin(i) > out.origin(i + 1) || out.origin(i) >= in.size()) std::abort();
  }
  for (size_t b = 0; b < out.text.size(); b += 7) {
    const auto [ob, oe] = normalizer::original_span(out.view(), in, b, std::min(out.text.size(), b + 5));
    if (ob > oe || oe > in.size()) std::abort();
    (void)norm->is_word_char_at(in, oe);
    (void)norm->is_word_char_before(in, ob);
  }
  return 0;
}
