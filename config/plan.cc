#include "config/plan.h"

#include <yaml-cpp/yaml.h>

namespace yuqing::config {

const plan_item* plan::item(int number) const {
  for (const auto& i : items)
    if (i.number == number) return &i;
  return nullptr;
}

result<plan> load_plan(const std::filesystem::path& file) {
  const auto name = file.string();
  try {
    const YAML::Node root = YAML::LoadFile(name);
    plan p;
    p.title = root["title"].as<std::string>("");
    int expected = 1;
    for (const auto& n : root["items"]) {
      plan_item it;
      it.number = n["number"].as<int>();
      if (it.number != expected) {
        return error{name + ":" + std::to_string(n.Mark().line + 1) + ": item " +
                     std::to_string(it.number) + " out of order, expected " +
                     std::to_string(expected)};
      }
      ++expected;
      it.section = n["section"].as<std::string>("");
      it.subsection = n["subsection"].as<std::string>("");
      it.text = n["text"].as<std::string>();
      it.lead_units = n["lead"].as<std::vector<std::string>>(std::vector<std::string>{});
      it.cooperating_units =
          n["cooperating"].as<std::vector<std::string>>(std::vector<std::string>{});
      if (it.lead_units.empty()) {
        return error{name + ": item " + std::to_string(it.number) + " has no lead unit"};
      }
      p.items.push_back(std::move(it));
    }
    if (p.items.empty()) return error{name + ": no items"};
    return p;
  } catch (const YAML::Exception& e) {
    return error{name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

}  // namespace yuqing::config
