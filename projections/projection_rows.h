// The rows each projection family should hold for a replayed ledger, produced one family at a
// time in ascending key order (RocksDB's bytewise order). The rebuild streams them into SST
// files and verify compares them against the stored rows, so neither holds every row at once:
// the search family alone has about 47 rows per customer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

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

// The search family's rows. The constructor computes every customer's buckets (2 bytes a row);
// rows() then produces the rows of a range of buckets, and several threads may produce
// disjoint ranges at once (the rebuild writes two halves side by side).
class SearchFamilyRows {
 public:
  explicit SearchFamilyRows(const ReplayedLedger& ledger);
  SearchFamilyRows(const SearchFamilyRows&) = delete;
  SearchFamilyRows& operator=(const SearchFamilyRows&) = delete;

  // The bucket that splits the rows into two halves of about the same number of rows.
  std::uint32_t middle() const;
  // Calls `sink` with the rows of buckets [low, end), ascending, in passes of at most
  // `rows_per_pass` rows (RowOptions).
  void rows(std::uint32_t low, std::uint32_t end, std::size_t rows_per_pass, const RowSink& sink) const;

 private:
  const ReplayedLedger& ledger_;
  std::vector<std::uint16_t> buckets_;
  std::vector<std::size_t> starts_;  // customer i's buckets are [starts_[i], starts_[i + 1])
  std::vector<std::size_t> per_bucket_;
};

// Calls `sink` with every row `family` (one of kProjectionFamilies) should hold. Memory beyond
// `ledger`: for the search family 2 bytes per row plus one pass; for the number views 16 bytes
// per customer.
void projection_rows(const ReplayedLedger& ledger, eventstore::Family family, const RowSink& sink,
                     const RowOptions& options = {});

}  // namespace ledger::projections
