// yuqingctl's commands of issue 23 (precision), against a running daemon's HTTP API:
//   verdict ID VERDICT [--note N] [--who W] [--alert]   a verdict on a hit (or an alert)
//   precision [--set S] [--since 30d] [--top 3]          per set, the rules by false hits
//                                                        with precision and suggestions
//   suggest --set S --rule R [--since 30d] [--apply N]   suggested exclusions; apply one
// Errors: the daemon's 4xx message is printed, exit 1; a bad option, exit 2 (CLI11).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/result.h"
#include "ctl/api.h"

namespace yuqing::ctl {

class precision_commands {
 public:
  // Adds the subcommands to `cli`; api_options adds --url and --token to each.
  precision_commands(CLI::App& cli, const std::function<void(CLI::App*)>& api_options);
  ~precision_commands();
  // Runs the subcommand given, if it is one of these (nullopt otherwise).
  std::optional<int> run(const std::string& url, const std::string& token) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace yuqing::ctl
