#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace yuqing::testing {

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/yuqing-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}

temp_dir::~temp_dir() {
  if (std::getenv("YUQING_KEEP_TEST_DIRS")) return;  // for a post-mortem
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace yuqing::testing
