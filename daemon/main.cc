// yuqingd: the daemon. Everything it does lives in yuqing::daemon (app.h).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "config/config.h"
#include "daemon/app.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  CLI::App cli{"yuqingd: public-opinion monitoring daemon"};
  cli.set_version_flag("--version", "yuqingd " YUQING_VERSION);
  std::string config_file = "config/yuqing.yaml";
  cli.add_option("-c,--config", config_file, "configuration file")->capture_default_str();
  bool check = false;
  cli.add_flag("--check-config", check, "validate the configuration and exit");
  CLI11_PARSE(cli, argc, argv);

  yuqing::daemon::block_signals();
  auto cfg = yuqing::config::load_file(config_file);
  if (!cfg) {
    std::cerr << cfg.error_message() << "\n";
    return 2;
  }
  if (check) {
    std::cout << config_file << ": ok\n";
    return 0;
  }
  if (auto st = yuqing::common::setup_logging(cfg->log_level, cfg->log_format, cfg->secrets());
      !st) {
    std::cerr << st.error_message() << "\n";
    return 2;
  }
  return yuqing::daemon::app(std::move(cfg.value())).run();
}
