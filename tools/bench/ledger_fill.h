// Fills a data directory through the command service in this process (no network), for the
// benchmarks that need a ledger of a given size. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "domain/customer.h"

namespace ledger::bench {

struct FillPlan {
  std::uint64_t customers = 0;
  unsigned edits_per_customer = 0;  // each edit changes two fields
  double delete_percent = 0;        // of the customers, deleted at the end (evenly spread)
  // The fields of customer i (0, 1, 2, ...); unset: "Customer i", "customer.i@example.org", ...
  std::function<domain::CustomerFields(std::uint64_t i)> fields;
};

struct FillResult {
  std::uint64_t events = 0;  // log entries written
  std::uint64_t deleted = 0;
  double seconds = 0;
};

// Creates a new ledger in `dir` (which must not exist) and closes it again.
// Throws std::runtime_error when a command is not accepted.
FillResult fill_ledger(const std::filesystem::path& dir, const FillPlan& plan);

}  // namespace ledger::bench
