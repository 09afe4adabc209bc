// yuqingctl's briefing commands (issue 24 item 4), against a running daemon's HTTP API:
//   briefing list [--limit N] [--json]                 the briefings kept, newest first
//   briefing show ID [--format md|html|json] [-o F]    one briefing (Markdown by default)
//   briefing make [--kind daily|weekly] --date D       make one now (analyst or admin token)
// Errors: the daemon's 4xx message is printed, exit 1; a bad option, exit 2 (CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace yuqing::ctl {

class briefing_commands {
 public:
  // Adds `briefing` and its subcommands to `cli`; api_options adds --url and --token.
  briefing_commands(CLI::App& cli, const std::function<void(CLI::App*)>& api_options);
  ~briefing_commands();
  // Runs the subcommand given, if it is one of these (nullopt otherwise).
  std::optional<int> run(const std::string& url, const std::string& token) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::ctl
