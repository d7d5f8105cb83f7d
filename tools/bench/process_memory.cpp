#include "tools/bench/process_memory.h"

#include <fstream>
#include <string>

namespace ledger::bench {
namespace {

// The value of a "Name:   1234 kB" line of /proc/PID/status in MiB; 0 when there is none.
double status_mb(pid_t pid, const std::string& name) {
  std::ifstream status(pid == 0 ? std::string("/proc/self/status") : "/proc/" + std::to_string(pid) + "/status");
  const auto prefix = name + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size())) / 1024.0;  // kB
  }
  return 0;
}

}  // namespace

double peak_rss_mb(pid_t pid) { return status_mb(pid, "VmHWM"); }

double resident_mb(pid_t pid) { return status_mb(pid, "VmRSS"); }

void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

}  // namespace ledger::bench
