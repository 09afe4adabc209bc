// A fresh directory for one test. Standard library only, so that every test binary may
// use it (it is compiled into each with the Catch2 main).
#pragma once

#include <filesystem>

namespace yuqing::testing {

// A fresh directory under /tmp, removed afterwards unless YUQING_KEEP_TEST_DIRS is set.
struct temp_dir {
  std::filesystem::path path;
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace yuqing::testing
