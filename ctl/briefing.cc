#include "ctl/briefing.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "ctl/api.h"
#include "http/client.h"

namespace yuqing::ctl {

using nlohmann::json;

struct briefing_commands::impl {
  CLI::App *group = nullptr, *list = nullptr, *show = nullptr, *make = nullptr;
  std::string id, format = "md", output, kind = "daily", date;
  size_t limit = 30;
  bool as_json = false;

  static result<http::http_reply> call(const std::string& url, const std::string& token, const std::string& method,
                                       const std::string& target, const std::string& body = "") {
    return api{url, token}.send(method, target, body);
  }
  static result<json> answer(const std::string& url, const std::string& token, const std::string& method,
                             const std::string& target, const std::string& body = "") {
    return api{url, token}.call(method, target, body);
  }

  int do_list(const std::string& url, const std::string& token) const {
    json j;
    if (auto rc = print_or_keep(answer(url, token, "GET", "/api/v1/briefings?limit=" + std::to_string(limit)),
                                as_json, j))
      return *rc;
    if (j["briefings"].empty()) {
      std::cout << "no briefing yet (yuqingctl briefing make --date YYYY-MM-DD)\n";
      return 0;
    }
    for (const auto& b : j["briefings"]) {
      std::string delivered;
      for (const auto& [r, outcome] : b["deliveries"].items())
        delivered += (delivered.empty() ? "  " : ", ") + r + ": " + outcome.get<std::string>();
      std::cout << b.value("id", "") << "  " << b.value("title", "") << "  (made " << b.value("generated", "") << ", "
                << b.value("trigger", "") << ")" << delivered << "\n";
    }
    return 0;
  }

  int do_show(const std::string& url, const std::string& token) const {
    auto r = call(url, token, "GET", "/api/v1/briefings/" + http::url_encode(id) + "?format=" + http::url_encode(format));
    if (!r) {
      std::cerr << r.error_message() << "\n";
      return 1;
    }
    if (r->status != 200) {
      json j = json::parse(r->body, nullptr, false);
      std::cerr << "HTTP " << r->status << ": " << (j.is_object() ? j.value("error", r->body) : r->body) << "\n";
      return 1;
    }
    if (output.empty()) {
      std::cout << r->body;
      return 0;
    }
    std::ofstream out(output, std::ios::binary);
    out << r->body;
    if (!out) {
      std::cerr << output << ": cannot write\n";
      return 1;
    }
    std::cout << output << "\n";
    return 0;
  }

  int do_make(const std::string& url, const std::string& token) const {
    json j;
    const json body{{"kind", kind}, {"date", date}};
    if (auto rc = print_or_keep(answer(url, token, "POST", "/api/v1/briefings", body.dump()), as_json, j)) return *rc;
    std::cout << j.value("id", "") << "  " << j.value("title", "") << "\n"
              << "  yuqingctl briefing show " << j.value("id", "") << " [--format md|html|json]\n";
    return 0;
  }
};

briefing_commands::briefing_commands(CLI::App& cli, const std::function<void(CLI::App*)>& api_options)
    : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.group = cli.add_subcommand("briefing", "舆情简报: list, show or make the daily and weekly briefings");
  m.group->require_subcommand(1);
  m.list = m.group->add_subcommand("list", "the briefings kept, newest first");
  api_options(m.list);
  m.list->add_option("--limit", m.limit, "most briefings listed")->capture_default_str();
  m.list->add_flag("--json", m.as_json, "JSON output");
  m.show = m.group->add_subcommand("show", "one briefing, as Markdown, HTML or JSON");
  api_options(m.show);
  m.show->add_option("id", m.id, "briefing id (daily-2022-11-21, weekly-2022-11-21)")->required();
  m.show->add_option("--format", m.format, "md, html or json")->capture_default_str()->check(CLI::IsMember({"md", "html", "json"}));
  m.show->add_option("-o,--output", m.output, "write it to this file");
  m.make = m.group->add_subcommand("make", "make the briefing of a period now (an analyst's or the admin token)");
  api_options(m.make);
  m.make->add_option("--kind", m.kind, "daily or weekly")->capture_default_str()->check(CLI::IsMember({"daily", "weekly"}));
  m.make->add_option("--date", m.date, "a local date YYYY-MM-DD (weekly: any day of the week)")->required();
  m.make->add_flag("--json", m.as_json, "JSON output");
}

briefing_commands::~briefing_commands() = default;

std::optional<int> briefing_commands::run(const std::string& url, const std::string& token) const {
  if (*impl_->list) return impl_->do_list(url, token);
  if (*impl_->show) return impl_->do_show(url, token);
  if (*impl_->make) return impl_->do_make(url, token);
  return std::nullopt;
}

}  // namespace yuqing::ctl
