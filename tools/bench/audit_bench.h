// The audit benchmark: an auditor's passes over a whole log against a raw scan of the same
// log, in this process, on a RocksDB secondary instance as ledger-audit opens a data directory:
// the as-of fold of `ledger-audit replay --at` and the checks of `ledger-audit verify`
// (see docs/performance.md).
#pragma once

#include <cstdint>
#include <filesystem>

#include "tools/bench/bench_report.h"

namespace ledger::bench {

struct AuditBenchOptions {
  std::filesystem::path work_dir;  // the ledger is filled here, and removed afterwards
  std::uint64_t events = 200'000;
};

// Throws std::runtime_error when the ledger cannot be filled or opened, or verify finds a
// problem in it.
BenchReport run_audit_bench(const AuditBenchOptions& options);

}  // namespace ledger::bench
