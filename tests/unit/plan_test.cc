#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "config/plan.h"

using namespace yuqing;

TEST_CASE("plan data matches the original document", "[plan]") {
  auto p = config::load_plan(YUQING_SOURCE_DIR "/seeds/plan.yaml");
  REQUIRE(p.ok());
  REQUIRE(p->items.size() == 30);

  std::ifstream in(YUQING_SOURCE_DIR "/seeds/jiangmen-psb-2022-openness-plan.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string original = ss.str();
  CHECK(original.rfind(p->title, 0) == 0);

  for (const auto& item : p->items) {
    INFO("item " << item.number);
    // The item's numbered text is in the original, verbatim.
    const auto at = original.find(std::to_string(item.number) + "." + item.text);
    REQUIRE(at != std::string::npos);
    // Its section headings come before it.
    CHECK(original.rfind(item.section, at) != std::string::npos);
    CHECK(original.rfind(item.subsection, at) != std::string::npos);
    // The units line that follows names the lead units before 负责, the others before 配合.
    const auto line_start = original.find_first_not_of("\r\n\t ", original.find('\n', at));
    const auto units = original.substr(line_start, original.find('\n', line_start) - line_start);
    const auto lead = units.substr(0, units.find("负责"));
    for (const auto& u : item.lead_units) CHECK(lead.find(u) != std::string::npos);
    const auto rest = units.substr(lead.size());
    for (const auto& u : item.cooperating_units) CHECK(rest.find(u) != std::string::npos);
    if (!item.cooperating_units.empty()) CHECK(rest.find("配合") != std::string::npos);
  }
  CHECK(p->item(11)->lead_units == std::vector<std::string>{"宣传科", "指挥中心", "督察支队"});
  CHECK(p->item(12)->lead_units == std::vector<std::string>{"指挥中心", "网警支队", "宣传科"});
  CHECK(p->item(4)->lead_units == std::vector<std::string>{"防控办"});
  CHECK(p->item(3)->cooperating_units == std::vector<std::string>{"法制支队", "警保科"});
  CHECK(p->item(19)->cooperating_units.empty());
  CHECK(p->item(31) == nullptr);
}
