// The rows each projection family should hold for a replayed ledger, produced one family at a
// time in ascending key order (RocksDB's bytewise order). The rebuild streams them into SST
// files and verify compares them against the stored rows, so neither holds every row at once:
// the search family alone has about 47 rows per customer.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string_view>

#include "eventstore/database.h"
#include "projections/replay.h"

namespace ledger::projections {

// The families a rebuild replaces; meta (next id, layout markers) is written separately.
constexpr std::array<eventstore::Family, 5> kProjectionFamilies = {
    eventstore::Family::kCustomers, eventstore::Family::kActive, eventstore::Family::kDeleted,
    eventstore::Family::kNumbersFree, eventstore::Family::kSearch};

// Receives one row; keys arrive strictly ascending.
using RowSink = std::function<void(std::string_view key, std::string_view value)>;

struct RowOptions {
  // Free-number rows keyed by their last number; false: the earlier layout, first -> last,
  // which verify still accepts in a directory ledgerd has not opened since.
  bool free_rows_by_last = true;
  // Search rows sort by bucket, customers come by id: the rows are produced in passes over
  // ranges of buckets, each holding at most this many rows (8 bytes each) unless one bucket
  // alone has more.
  std::size_t search_rows_per_pass = std::size_t{1} << 22;
};

// Calls `sink` with every row `family` (one of kProjectionFamilies) should hold. Memory beyond
// `ledger`: for the search family 2 bytes per row plus one pass; for the number views 16 bytes
// per customer.
void projection_rows(const ReplayedLedger& ledger, eventstore::Family family, const RowSink& sink,
                     const RowOptions& options = {});

}  // namespace ledger::projections
