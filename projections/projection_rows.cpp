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

// Each customer's search buckets, ascending, in one flat array (2 bytes a row).
struct CustomerBuckets {
  std::vector<std::uint16_t> buckets;
  std::vector<std::size_t> starts;  // customer i's buckets are [starts[i], starts[i + 1])
  std::vector<std::size_t> per_bucket = std::vector<std::size_t>(kSearchBuckets);
};

CustomerBuckets customer_buckets(const ReplayedLedger& ledger) {
  CustomerBuckets out;
  out.starts.reserve(ledger.customers.size() + 1);
  out.starts.push_back(0);
  for (const auto& [id, c] : ledger.customers) {
    // search_buckets is the one definition of the rows (search_row of each bucket).
    for (auto bucket : search_buckets(c.fields)) {
      out.buckets.push_back(bucket);
      ++out.per_bucket[bucket];
    }
    out.starts.push_back(out.buckets.size());
  }
  return out;
}

// Rows are bucket ‖ id: each pass collects the ids of a range of buckets, then emits them
// bucket by bucket.
void search_family_rows(const ReplayedLedger& ledger, std::size_t rows_per_pass, const RowSink& sink) {
  const auto all = customer_buckets(ledger);
  std::uint32_t low = 0;
  while (low < kSearchBuckets) {
    std::uint32_t high = low + 1;
    std::size_t rows = all.per_bucket[low];
    while (high < kSearchBuckets && rows + all.per_bucket[high] <= rows_per_pass) rows += all.per_bucket[high++];

    // Customers come in ascending id order, so each bucket's ids arrive sorted.
    std::vector<std::vector<domain::CustomerId>> ids(high - low);
    for (std::uint32_t b = low; b < high; ++b) ids[b - low].reserve(all.per_bucket[b]);
    std::size_t i = 0;
    for (const auto& [id, c] : ledger.customers) {
      const auto begin = all.buckets.begin() + static_cast<std::ptrdiff_t>(all.starts[i]);
      const auto end = all.buckets.begin() + static_cast<std::ptrdiff_t>(all.starts[i + 1]);
      for (auto b = std::lower_bound(begin, end, low); b != end && *b < high; ++b) ids[*b - low].push_back(id);
      ++i;
    }
    for (std::uint32_t b = low; b < high; ++b) {
      for (auto id : ids[b - low]) sink(search_row(static_cast<std::uint16_t>(b), id), {});
    }
    low = high;
  }
}

}  // namespace

void projection_rows(const ReplayedLedger& ledger, Family family, const RowSink& sink, const RowOptions& options) {
  switch (family) {
    case Family::kCustomers: return customer_rows(ledger, sink);
    case Family::kActive: return view_rows(ledger, domain::CustomerStatus::kActive, sink);
    case Family::kDeleted: return view_rows(ledger, domain::CustomerStatus::kDeleted, sink);
    case Family::kNumbersFree: return free_number_rows(ledger, options.free_rows_by_last, sink);
    case Family::kSearch: return search_family_rows(ledger, options.search_rows_per_pass, sink);
    default: throw std::logic_error(std::string("not a projection family: ") + eventstore::family_name(family));
  }
}

}  // namespace ledger::projections
