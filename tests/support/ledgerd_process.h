// The tests' ledgerd: tools::LedgerdProcess (tools/common/ledgerd_process.h) started from the
// build's ledgerd (LEDGERD_PATH, defined by the test's CMake target) on 127.0.0.1 port 0 with two
// network threads, its stderr in `data`.log; killed (SIGKILL) when it goes out of scope. For
// tests only; not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tools/common/ledgerd_process.h"

namespace ledger::testing {

class LedgerdProcess : public tools::LedgerdProcess {
 public:
  // Starts ledgerd with --data `data` --listen `listen` --threads 2 and `extra` arguments.
  // Throws when it does not print its listening line within 20 s.
  LedgerdProcess(const std::filesystem::path& data, std::vector<std::string> extra = {},
                 std::string listen = "127.0.0.1:0")
      : tools::LedgerdProcess(launch(data, std::move(extra), std::move(listen))) {}

 private:
  static tools::LedgerdLaunch launch(const std::filesystem::path& data, std::vector<std::string> extra,
                                     std::string listen) {
    tools::LedgerdLaunch launch;
    launch.ledgerd = LEDGERD_PATH;
    launch.data = data;
    launch.log_file = data.string() + ".log";
    launch.listen = std::move(listen);
    launch.extra = {"--threads", "2"};
    launch.extra.insert(launch.extra.end(), extra.begin(), extra.end());
    return launch;
  }
};

}  // namespace ledger::testing
