// The search benchmark: a ledgerd child on a ledger of varied customers
// (tools/bench/varied_customers.h), asked over TCP for the first page of the active list
// filtered by many different 3-letter fragments, one request at a time on one connection;
// then by a fragment no customer holds. Reports each request's latency, ledgerd's start-up
// and its resident memory after the searches (see docs/performance.md).
#pragma once

#include <cstdint>
#include <filesystem>

#include "tools/bench/bench_report.h"

namespace ledger::bench {

struct SearchBenchOptions {
  std::filesystem::path work_dir;  // the ledger is filled here, and removed afterwards
  std::filesystem::path ledgerd;
  std::uint64_t customers = 100'000;
  unsigned searches = 1'000;  // different fragments; fewer when the customers hold fewer
};

// Throws std::runtime_error when ledgerd cannot be started or reached, refuses a search, or
// finds a customer for the fragment none holds.
BenchReport run_search_bench(const SearchBenchOptions& options);

}  // namespace ledger::bench
