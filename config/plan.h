// The bureau's 2022 plan as data (seeds/plan.yaml): each item with its section, text,
// lead units and cooperating units. Alerts and mailbox cases take their units from here.
// Immutable once loaded; safe to share between threads.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/result.h"

namespace yuqing::config {

struct plan_item {
  int number = 0;
  std::string section;     // 一、... heading
  std::string subsection;  // （一）... heading
  std::string text;        // the item's text without its number
  std::vector<std::string> lead_units;
  std::vector<std::string> cooperating_units;
};

struct plan {
  std::string title;
  std::vector<plan_item> items;  // ordered by number

  // nullptr when the plan has no such item.
  const plan_item* item(int number) const;
};

// Loads seeds/plan.yaml. Errors name the file and the item that is wrong.
result<plan> load_plan(const std::filesystem::path& file);

}  // namespace yuqing::config
