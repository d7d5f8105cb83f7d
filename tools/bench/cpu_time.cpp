#include "tools/bench/cpu_time.h"

#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace ledger::bench {
namespace {

double ticks_per_second() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

}  // namespace

double process_cpu_seconds(pid_t pid) {
  std::ifstream stat(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
  // plain: state is field 3, utime and stime fields 14 and 15.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  double utime = 0, stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stod(field);
    if (n == 15) stime = std::stod(field);
  }
  return (utime + stime) / ticks_per_second();
}

MachineTime machine_time() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return {};
  const double busy = user + nice + system + irq + softirq + steal;
  return {busy / ticks_per_second(), (busy + idle + iowait) / ticks_per_second()};
}

}  // namespace ledger::bench
