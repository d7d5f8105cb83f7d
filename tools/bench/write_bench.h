// The write benchmark: durable commands per second against a running ledgerd over TCP, the
// writer's CPU time per command, and in the same run the networked minimal log (the same load
// against a log that only appends each command and syncs, MinimalLogServer), the protocol path
// alone (reads answered by the same ledgerd), the same bytes written straight to RocksDB and the
// event-log limit (one small sync Put per command) (see docs/performance.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "tools/bench/bench_report.h"
#include "tools/bench/command_mix.h"

namespace ledger::bench {

struct WriteBenchOptions {
  std::string server;  // HOST:PORT; empty: start a ledgerd child on a temporary directory
  std::filesystem::path ledgerd;
  std::filesystem::path work_dir;  // temporary directories go here
  unsigned connections = 1;
  unsigned pipeline = 1;  // requests in flight per connection
  double seconds = 5;
  CommandMix mix;
  bool raw = false;  // also run the baselines: networked minimal log, protocol path, same bytes,
                    // event-log limit, ceiling
  std::size_t raw_pool = 20'000;  // distinct command batches the raw baseline cycles through
};

// Runs the load; throws std::runtime_error when ledgerd cannot be started or reached.
BenchReport run_write_bench(const WriteBenchOptions& options);

}  // namespace ledger::bench
