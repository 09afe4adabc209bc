// gazetteer: the regions of the city (districts and county-level cities) with their
// aliases, to place a message: its `region` field when it names a known region (an alias
// gives the region's name), else the first region named in its text, else none.
//
// File (YAML; seeds/gazetteer/jiangmen.yaml is Jiangmen's):
//   regions:
//     - name: 台山市
//       aliases: [台山, 台城]
//
// Threads: immutable once loaded; callable from any thread. Errors: load() names the file,
// line and column of what is wrong (an alias given to two regions, an empty name, ...).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/result.h"

namespace yuqing::risk {

class gazetteer {
 public:
  gazetteer() = default;  // empty: only the region field places a message
  static result<gazetteer> load(const std::filesystem::path& file);
  static result<gazetteer> parse(const std::string& yaml, const std::string& name);

  // The region a message belongs to: `field` when it is a known name or alias (mapped to
  // the name); `field` as given when the gazetteer does not know it; else the region whose
  // name or alias appears first in `text` (the longest one at that place); "" when none.
  std::string place(std::string_view field, std::string_view text) const;
  // The region a name or alias stands for; "" when unknown.
  std::string canonical(std::string_view name_or_alias) const;
  const std::vector<std::string>& regions() const { return names_; }

 private:
  std::vector<std::string> names_;                       // in file order
  std::unordered_map<std::string, std::string> lookup_;  // name or alias -> name
  size_t longest_ = 0;                                   // bytes of the longest alias
};

}  // namespace yuqing::risk
