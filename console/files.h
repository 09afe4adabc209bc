// The web console's files as built into the binary (generated from console/ by
// embed.cmake at build time). Read-only static data: any thread.
#pragma once

#include <span>
#include <string_view>

namespace yuqing::console {

struct file {
  std::string_view path;          // relative to console/: "index.html", "js/api.js"
  std::string_view content_type;  // from the extension
  std::string_view bytes;
};

// Sorted by path.
std::span<const file> files();

}  // namespace yuqing::console
