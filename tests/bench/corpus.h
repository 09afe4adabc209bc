// The benchmark corpus (build/bench-data, made by gen_corpus.py) read into memory: the
// file's text and its lines as views into it. Shared by the benchmarks.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace yuqing::bench {

struct lines_file {
  std::string text;
  std::vector<std::string_view> lines;  // views into text, without the newlines

  explicit lines_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    for (size_t at = 0; at < text.size();) {
      size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      lines.emplace_back(text.data() + at, nl - at);
      at = nl + 1;
    }
  }
  lines_file(const lines_file&) = delete;  // the views point into text
  lines_file& operator=(const lines_file&) = delete;
};

}  // namespace yuqing::bench
