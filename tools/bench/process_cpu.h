// The CPU time of this process, every thread's, as the kernel accounts it. Beside a pass's
// wall time it tells whether a pass on two threads had the second core: when other work holds
// it, the wall time of such a pass comes near its CPU time. Thread-safe.
#pragma once

namespace ledger::bench {

// User and system time of every thread of this process so far, in seconds.
double process_cpu_seconds();

}  // namespace ledger::bench
