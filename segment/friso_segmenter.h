// friso_segmenter: the segmenter of libfriso (mmseg, complex mode) over Debian's
// friso-dict, kept to compare with dag_segmenter (tests/unit/segment_test.cc,
// tests/bench/segment_bench.cc); yuqing does not run it (see README.md).
//
// Debian ships the configuration at /etc/friso/friso.ini (in libfriso0, not in
// friso-dict; friso.pc's friso_init points to /usr/share/friso/friso.ini, which does not
// exist), with friso.lex_dir = /usr/share/friso/dict/UTF-8/ (friso-dict). It is used as
// shipped, except that synonyms are not appended (add_syn = 0): they would be tokens at
// no position of the text.
//
// Extra words are added to this instance's dictionary as CJK words (friso keeps words of
// at most friso.max_len = 5 characters). Ownership: each instance loads its own copy of
// the dictionary (about 0.3 s). Thread safety: boundaries() may run on several threads
// (one friso task per call); construction is not thread-safe with other instances being
// built (friso's loader uses static buffers). Errors: the constructor throws
// std::runtime_error when the configuration cannot be loaded.
#pragma once

#include <string>
#include <vector>

#include "segment/segmenter.h"

namespace yuqing::segment {

inline constexpr const char* friso_ini_path = "/etc/friso/friso.ini";

class friso_segmenter final : public segmenter {
 public:
  explicit friso_segmenter(const std::vector<std::string>& extra_words = {},
                           const std::string& ini = friso_ini_path);
  ~friso_segmenter() override;
  void boundaries(std::string_view text, std::vector<uint32_t>& out) const override;
  bool is_word(std::string_view word) const override;
  const char* name() const override { return "friso"; }
  friso_segmenter(const friso_segmenter&) = delete;
  friso_segmenter& operator=(const friso_segmenter&) = delete;

 private:
  void* friso_ = nullptr;   // friso_t
  void* config_ = nullptr;  // friso_config_t
};

}  // namespace yuqing::segment
