// The memory of a process as Linux reports it in /proc/PID/status, in MiB. Thread-safe.
#pragma once

#include <sys/types.h>

namespace ledger::bench {

// VmHWM, the peak resident set so far (`pid` 0: this process); 0 when it cannot be read.
double peak_rss_mb(pid_t pid);

// VmRSS, the resident set now (`pid` 0: this process); 0 when it cannot be read.
double resident_mb(pid_t pid);

// Lets this process's VmHWM start again from its current resident set (Linux ≥ 4.0), so that
// a later peak_rss_mb(0) is the peak of what ran since, not of what ran before.
void reset_peak_rss();

}  // namespace ledger::bench
