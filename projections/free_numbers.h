// FreeNumbers: the customer numbers nobody holds, kept as disjoint inclusive intervals in the
// `numbers_free` column family (start -> end, both big-endian). Finding the lowest free number,
// taking one and freeing one each touch O(1) rows after an O(log n) seek.
// Used by one thread at a time (the writer, or a rebuild).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <rocksdb/write_batch_base.h>

#include "domain/customer.h"
#include "eventstore/reader.h"

namespace ledger::projections {

struct NumberInterval {
  domain::CustomerNumber first = 0;
  domain::CustomerNumber last = 0;
  bool operator==(const NumberInterval&) const = default;
};

class FreeNumbers {
 public:
  // "*reader" must see `batch`'s writes (an OverlayReader over it) and outlive this object.
  FreeNumbers(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch) : reader_(reader), batch_(batch) {}

  // A new ledger: every number from 1 to kMaxCustomerNumber is free.
  void initialize();
  // The lowest free number; nullopt only when every number is held. `at_least`: the caller
  // knows that no number below it is free (the writer remembers the last answer until a number
  // is freed), so the search starts there instead of at the first row. Taking numbers leaves
  // deleted rows below the lowest interval until compaction; starting at the first row would
  // step over every one of them, for every create.
  std::optional<domain::CustomerNumber> lowest(domain::CustomerNumber at_least = domain::kFirstCustomerNumber) const;
  bool is_free(domain::CustomerNumber number) const;
  // Marks `number` held. Throws std::logic_error if it is not free (decide checks first).
  void take(domain::CustomerNumber number);
  // Marks `number` free again, merging with neighbouring intervals.
  void release(domain::CustomerNumber number);

  // Every interval, ascending (verify and tests).
  static std::vector<NumberInterval> all(const eventstore::Reader& reader);

 private:
  std::optional<NumberInterval> containing_or_before(domain::CustomerNumber number) const;
  void put(NumberInterval interval);
  void erase(domain::CustomerNumber first);

  const eventstore::Reader& reader_;
  rocksdb::WriteBatchBase& batch_;
};

// The intervals of numbers not in `held` (which must be ascending): what FreeNumbers holds
// after a rebuild.
std::vector<NumberInterval> complement(const std::vector<domain::CustomerNumber>& held);

}  // namespace ledger::projections
