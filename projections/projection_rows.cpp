#include "projections/projection_rows.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <openssl/crypto.h>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/key_store.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"

namespace ledger::projections {
namespace {

using eventstore::Family;

// The active or deleted view: number -> id, sorted by number.
void view_rows(const ReplayedLedger& ledger, domain::CustomerStatus status, const RowSink& sink) {
  std::vector<std::pair<domain::CustomerNumber, domain::CustomerId>> view;
  for (const auto& [id, c] : ledger.customers) {
    if (c.status == status) view.emplace_back(c.number, id);
  }
  std::sort(view.begin(), view.end());
  for (const auto& [number, id] : view) sink(eventstore::u64_key(number), eventstore::u64_key(id));
}

void free_number_rows(const ReplayedLedger& ledger, const RowSink& sink) {
  std::vector<domain::CustomerNumber> held;
  held.reserve(ledger.customers.size());
  for (const auto& [id, c] : ledger.customers) held.push_back(c.number);
  std::sort(held.begin(), held.end());
  // The intervals are disjoint and ascending, so both their firsts and their lasts ascend.
  for (const auto& interval : complement(held)) {
    const auto [key, value] = free_interval_row(interval);
    sink(key, value);
  }
}

}  // namespace

void customer_rows(const ReplayedLedger& ledger, domain::CustomerId from, domain::CustomerId to, const RowSink& sink) {
  CustomerEncoder encoder;
  for (auto it = ledger.customers.from(from), end = ledger.customers.from(to); it != end; ++it) {
    const auto& [id, c] = *it;
    sink(eventstore::u64_key(id), encoder.encode(c));
  }
}

void sealed_customer_rows(const ReplayedLedger& ledger, const eventstore::KeyStore& keys, domain::CustomerId from,
                          domain::CustomerId to, const RowSink& sink) {
  // The customers come in ascending id order: their keys through one cursor, a step each,
  // where a Get per customer searched the store from the top.
  eventstore::KeyCursor cursor(keys);
  for (auto it = ledger.customers.from(from), end = ledger.customers.from(to); it != end; ++it) {
    const auto& [id, c] = *it;
    auto stored = cursor.find(id);
    if (!stored) throw eventstore::CorruptionError("customer id " + std::to_string(id) + " has no keys in the key store");
    sink(eventstore::u64_key(id), seal_customer(keys, c, &stored->data));
    OPENSSL_cleanse(&*stored, sizeof(*stored));
  }
}

void projection_rows(const ReplayedLedger& ledger, Family family, const RowSink& sink) {
  switch (family) {
    case Family::kCustomers: return customer_rows(ledger, 0, ledger.customers.id_limit(), sink);
    case Family::kActive: return view_rows(ledger, domain::CustomerStatus::kActive, sink);
    case Family::kDeleted: return view_rows(ledger, domain::CustomerStatus::kDeleted, sink);
    case Family::kNumbersFree: return free_number_rows(ledger, sink);
    default: throw std::logic_error(std::string("not a projection family: ") + eventstore::family_name(family));
  }
}

}  // namespace ledger::projections
