// The benchmarks on a ledger of a given size: projection rebuild against a raw scan of the log,
// the erasure pass against a bare full compaction, and ledgerd's start-up against a bare open.
// Each fills its own ledger under `work_dir` first (not timed) and removes it afterwards.
#pragma once

#include <cstdint>
#include <filesystem>

#include "tools/bench/bench_report.h"

namespace ledger::bench {

struct StoreBenchOptions {
  std::filesystem::path work_dir;
  std::filesystem::path ledgerd;
  std::uint64_t events = 0;     // replay
  std::uint64_t customers = 0;  // purge, open
  double percent = 1;           // purge: share of customers deleted, then purged
  unsigned edits = 1;           // purge: edits per customer (each changes two fields)
};

BenchReport run_replay_bench(const StoreBenchOptions& options);
BenchReport run_purge_bench(const StoreBenchOptions& options);
BenchReport run_open_bench(const StoreBenchOptions& options);

}  // namespace ledger::bench
