#include "segment/friso_segmenter.h"

extern "C" {
#include <friso.h>
}

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace yuqing::segment {

friso_segmenter::friso_segmenter(const std::vector<std::string>& extra_words, const std::string& ini) {
  friso_t f = friso_new();
  friso_config_t c = friso_new_config();
  std::string path = ini;
  if (friso_init_from_ifile(f, c, path.data()) != 1) {
    friso_free_config(c);
    friso_free(f);
    throw std::runtime_error(ini + ": friso cannot load its configuration");
  }
  c->add_syn = 0;
  for (const auto& w : extra_words) {
    if (w.empty() || friso_dic_match(f->dic, __LEX_CJK_WORDS__, const_cast<char*>(w.c_str()))) continue;
    friso_dic_add(f->dic, __LEX_CJK_WORDS__, strdup(w.c_str()), nullptr);  // friso owns it
  }
  friso_ = f;
  config_ = c;
}

friso_segmenter::~friso_segmenter() {
  friso_free_config(static_cast<friso_config_t>(config_));
  friso_free(static_cast<friso_t>(friso_));
}

bool friso_segmenter::is_word(std::string_view word) const {
  std::string w(word);
  return friso_dic_match(static_cast<friso_t>(friso_)->dic, __LEX_CJK_WORDS__, w.data()) != 0;
}

// Every offset that no token covers strictly inside is a boundary: friso leaves out
// punctuation (and unknown characters with keep_urec = 0), whose edges are boundaries.
void friso_segmenter::boundaries(std::string_view text, std::vector<uint32_t>& out) const {
  auto* f = static_cast<friso_t>(friso_);
  auto* c = static_cast<friso_config_t>(config_);
  thread_local std::string copy;
  thread_local std::vector<char> inside;
  copy.assign(text);
  inside.assign(text.size() + 1, 0);
  friso_task_t task = friso_new_task();
  friso_set_text(task, copy.data());
  while (c->next_token(f, c, task) != nullptr) {
    const friso_token_t t = task->token;
    const size_t b = static_cast<size_t>(std::max(t->offset, 0));
    const size_t e = std::min(text.size(), b + t->rlen);
    for (size_t k = b + 1; k < e; ++k) inside[k] = 1;
  }
  friso_free_task(task);
  out.clear();
  for (size_t k = 0; k <= text.size(); ++k) {
    const bool char_start = k == text.size() || (static_cast<unsigned char>(text[k]) & 0xC0) != 0x80;
    if (char_start && !inside[k]) out.push_back(static_cast<uint32_t>(k));
  }
}

}  // namespace yuqing::segment
