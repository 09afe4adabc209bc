#include "segment/dictionary.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace yuqing::segment {

namespace {

// The length of the UTF-8 character starting with byte `c` (1 for a stray byte).
size_t char_len(unsigned char c) {
  return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

}  // namespace

result<std::shared_ptr<const dictionary>> dictionary::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return error{file.string() + ": cannot open the segmentation dictionary"};
  std::ostringstream text;
  text << in.rdbuf();
  auto d = std::make_shared<dictionary>();
  // Words first (word, frequency), laid out in the arena, then the map over it: the arena
  // must not move once keys point into it.
  std::vector<std::pair<std::string_view, uint32_t>> entries;
  const std::string all = text.str();
  d->arena_.reserve(all.size());
  double total = 0;
  for (size_t at = 0; at < all.size();) {
    size_t nl = all.find('\n', at);
    if (nl == std::string::npos) nl = all.size();
    std::string_view line(all.data() + at, nl - at);
    at = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t sp = line.find(' ');
    uint32_t freq = 0;
    if (sp == 0 || sp == std::string_view::npos) {
      ++d->skipped_;
      continue;
    }
    const char* f = line.data() + sp + 1;
    const char* end = line.data() + line.size();
    const size_t sp2 = line.find(' ', sp + 1);
    if (sp2 != std::string_view::npos) end = line.data() + sp2;
    if (std::from_chars(f, end, freq).ec != std::errc{}) {
      ++d->skipped_;
      continue;
    }
    entries.emplace_back(line.substr(0, sp), freq);
    total += freq;
  }
  if (entries.empty()) return error{file.string() + ": no word in the segmentation dictionary"};
  for (auto& [w, f] : entries) {
    const size_t off = d->arena_.size();
    d->arena_.append(w);
    w = std::string_view(d->arena_.data() + off, w.size());
  }
  d->words_.reserve(entries.size() * 2);
  for (const auto& [w, f] : entries) {
    auto [it, fresh] = d->words_.emplace(w, entry{f, 0});
    if (!fresh) it->second.freq = std::max(it->second.freq, f);
    for (size_t n = 0; n < w.size();) {  // the prefixes, as words of frequency 0
      n += char_len(static_cast<unsigned char>(w[n]));
      if (n < w.size()) d->words_.emplace(w.substr(0, n), entry{});
    }
  }
  d->word_count_ = entries.size();
  d->log_total_ = std::log(total);
  for (auto& [w, e] : d->words_)
    if (e.freq > 0) e.log_p = static_cast<float>(std::log(double(e.freq)) - d->log_total_);
  return std::shared_ptr<const dictionary>(std::move(d));
}

std::shared_ptr<const dictionary> dictionary::shared(std::string* why) {
  static std::once_flag once;
  static std::shared_ptr<const dictionary> dict;
  static std::string failure;
  std::call_once(once, [] {
    const char* env = std::getenv("YUQING_SEGMENT_DICT");
    auto r = load(env && *env ? env : jieba_dictionary_path);
    if (r) dict = *r;
    else failure = r.error_message();
  });
  if (why) *why = failure;
  return dict;
}

}  // namespace yuqing::segment
