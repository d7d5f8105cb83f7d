// FreeNumbers: the customer numbers nobody holds, kept as disjoint inclusive intervals in the
// `numbers_free` column family, keyed by their last number (last -> first, both big-endian).
// Finding the lowest free number, taking one and freeing one each touch O(1) rows after an
// O(log n) seek.
//
// Keyed by the end, taking the lowest free number (the common case: every create) overwrites
// the interval's one row with a higher first number, so the family never gathers a tombstone
// per create below the lowest interval, and the first row is always the lowest interval.
// Used by one thread at a time (the writer, or a rebuild).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

// The lowest free interval as a writer remembers it between commands, so that taking the lowest
// free number (every create without a number) reads nothing: nullopt when not known (read it
// then), or when no number is free.
using LowestFreeInterval = std::optional<NumberInterval>;

class FreeNumbers {
 public:
  // "*reader" must see `batch`'s writes (an OverlayReader over it) and outlive this object.
  // "*lowest", when given, must be what the rows hold or nullopt, and must outlive this object;
  // it is read instead of the first row and kept in step with every change.
  FreeNumbers(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch, LowestFreeInterval* lowest = nullptr)
      : reader_(reader), batch_(batch), lowest_(lowest) {}

  // A new ledger: every number from 1 to kMaxCustomerNumber is free, in rows of the current
  // layout, which this marks (eventstore::mark_current_layout).
  void initialize();
  // The lowest free number; nullopt only when every number is held.
  std::optional<domain::CustomerNumber> lowest() const;
  // The interval holding the lowest free number; nullopt only when every number is held.
  std::optional<NumberInterval> lowest_interval() const;
  bool is_free(domain::CustomerNumber number) const;
  // Marks `number` held. Throws std::logic_error if it is not free (decide checks first).
  void take(domain::CustomerNumber number);
  // Marks `number` free again, merging with neighbouring intervals.
  void release(domain::CustomerNumber number);

  // Every interval, ascending (verify and tests).
  static std::vector<NumberInterval> all(const eventstore::Reader& reader);

 private:
  // The first interval that ends at or after `number`: the one holding it, if any does.
  std::optional<NumberInterval> ending_at_or_after(domain::CustomerNumber number) const;
  void put(NumberInterval interval);
  void erase(domain::CustomerNumber last);

  const eventstore::Reader& reader_;
  rocksdb::WriteBatchBase& batch_;
  LowestFreeInterval* lowest_;
};

// The intervals of numbers not in `held` (which must be ascending): what FreeNumbers holds
// after a rebuild.
std::vector<NumberInterval> complement(const std::vector<domain::CustomerNumber>& held);

// The `numbers_free` row of an interval (key, value).
std::pair<std::string, std::string> free_interval_row(const NumberInterval& interval);

}  // namespace ledger::projections
