// The resident set of a process as Linux reports it (VmRSS in /proc/PID/status). For tests only.
#pragma once

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/types.h>

namespace ledger::testing {

// The resident set of process `pid` in KiB; 0 when unreadable.
inline std::size_t resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream words(line.substr(6));
    std::size_t kib = 0;
    words >> kib;
    return kib;
  }
  return 0;
}

}  // namespace ledger::testing
