// CPU time as Linux reports it in /proc: of one process (all its threads), and of the whole
// machine, so that a benchmark can say who used the cores while it ran. Thread-safe.
#pragma once

#include <sys/types.h>

namespace ledger::bench {

// User plus system CPU seconds of process `pid` (0: this process) so far; 0 when it cannot be
// read.
double process_cpu_seconds(pid_t pid);

// Seconds every core together spent so far: `busy` (not idle, not waiting for I/O) and in all.
struct MachineTime {
  double busy = 0;
  double total = 0;
};
MachineTime machine_time();

}  // namespace ledger::bench
