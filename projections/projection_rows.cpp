#include "projections/projection_rows.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "eventstore/encoding.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"

namespace ledger::projections {
namespace {

using eventstore::Family;

void customer_rows(const ReplayedLedger& ledger, const RowSink& sink) {
  for (const auto& [id, c] : ledger.customers) sink(eventstore::u64_key(id), encode_customer(c));
}

// The active or deleted view: number -> id, sorted by number.
void view_rows(const ReplayedLedger& ledger, domain::CustomerStatus status, const RowSink& sink) {
  std::vector<std::pair<domain::CustomerNumber, domain::CustomerId>> view;
  for (const auto& [id, c] : ledger.customers) {
    if (c.status == status) view.emplace_back(c.number, id);
  }
  std::sort(view.begin(), view.end());
  for (const auto& [number, id] : view) sink(eventstore::u64_key(number), eventstore::u64_key(id));
}

void free_number_rows(const ReplayedLedger& ledger, bool by_last, const RowSink& sink) {
  std::vector<domain::CustomerNumber> held;
  held.reserve(ledger.customers.size());
  for (const auto& [id, c] : ledger.customers) held.push_back(c.number);
  std::sort(held.begin(), held.end());
  // The intervals are disjoint and ascending, so both their firsts and their lasts ascend.
  for (const auto& interval : complement(held)) {
    const auto [last, first] = free_interval_row(interval);
    if (by_last) {
      sink(last, first);
    } else {
      sink(first, last);
    }
  }
}

}  // namespace

SearchFamilyRows::SearchFamilyRows(const ReplayedLedger& ledger) : ledger_(ledger), per_bucket_(kSearchBuckets) {
  starts_.reserve(ledger.customers.size() + 1);
  starts_.push_back(0);
  for (const auto& [id, c] : ledger.customers) {
    // search_buckets is the one definition of the rows (search_row of each bucket).
    for (auto bucket : search_buckets(c.fields)) {
      buckets_.push_back(bucket);
      ++per_bucket_[bucket];
    }
    starts_.push_back(buckets_.size());
  }
}

std::uint32_t SearchFamilyRows::middle() const {
  const std::size_t half = buckets_.size() / 2;
  std::size_t rows = 0;
  std::uint32_t bucket = 0;
  while (bucket < kSearchBuckets && rows < half) rows += per_bucket_[bucket++];
  return bucket;
}

// Rows are bucket ‖ id: each pass collects the ids of a range of buckets, then emits them
// bucket by bucket.
void SearchFamilyRows::rows(std::uint32_t low, std::uint32_t end, std::size_t rows_per_pass, const RowSink& sink) const {
  while (low < end) {
    std::uint32_t high = low + 1;
    std::size_t rows = per_bucket_[low];
    while (high < end && rows + per_bucket_[high] <= rows_per_pass) rows += per_bucket_[high++];

    // Customers come in ascending id order, so each bucket's ids arrive sorted.
    std::vector<std::vector<domain::CustomerId>> ids(high - low);
    for (std::uint32_t b = low; b < high; ++b) ids[b - low].reserve(per_bucket_[b]);
    std::size_t i = 0;
    for (const auto& [id, c] : ledger_.customers) {
      const auto begin = buckets_.begin() + static_cast<std::ptrdiff_t>(starts_[i]);
      const auto last = buckets_.begin() + static_cast<std::ptrdiff_t>(starts_[i + 1]);
      for (auto b = std::lower_bound(begin, last, low); b != last && *b < high; ++b) ids[*b - low].push_back(id);
      ++i;
    }
    for (std::uint32_t b = low; b < high; ++b) {
      // One row string per bucket, its id bytes overwritten for each customer.
      auto row = search_row(static_cast<std::uint16_t>(b), 0);
      for (auto id : ids[b - low]) {
        eventstore::store_u64(row.data() + 2, id);
        sink(row, {});
      }
    }
    low = high;
  }
}

void projection_rows(const ReplayedLedger& ledger, Family family, const RowSink& sink, const RowOptions& options) {
  switch (family) {
    case Family::kCustomers: return customer_rows(ledger, sink);
    case Family::kActive: return view_rows(ledger, domain::CustomerStatus::kActive, sink);
    case Family::kDeleted: return view_rows(ledger, domain::CustomerStatus::kDeleted, sink);
    case Family::kNumbersFree: return free_number_rows(ledger, options.free_rows_by_last, sink);
    case Family::kSearch:
      return SearchFamilyRows(ledger).rows(0, kSearchBuckets, options.search_rows_per_pass, sink);
    default: throw std::logic_error(std::string("not a projection family: ") + eventstore::family_name(family));
  }
}

}  // namespace ledger::projections
