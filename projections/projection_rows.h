// The rows each projection family should hold for a replayed ledger, produced one family at a
// time in ascending key order (RocksDB's bytewise order). The rebuild streams them into SST
// files and verify compares them against the stored rows, so neither holds every row at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "eventstore/database.h"
#include "eventstore/key_store.h"
#include "projections/replayed_ledger.h"

namespace ledger::projections {

// The families a rebuild replaces; meta (next id, layout markers) is written separately.
constexpr std::array<eventstore::Family, 4> kProjectionFamilies = {
    eventstore::Family::kCustomers, eventstore::Family::kActive, eventstore::Family::kDeleted,
    eventstore::Family::kNumbersFree};

// Receives one row; keys arrive strictly ascending.
using RowSink = std::function<void(std::string_view key, std::string_view value)>;

// Calls `sink` with every row `family` (one of kProjectionFamilies) should hold. Memory beyond
// `ledger`: for the number views 16 bytes per customer.
void projection_rows(const ReplayedLedger& ledger, eventstore::Family family, const RowSink& sink);
// The `customers` rows of the ids in [from, to) only: for writing the family in parts at once.
// The states are plaintext, as verify compares them.
void customer_rows(const ReplayedLedger& ledger, domain::CustomerId from, domain::CustomerId to, const RowSink& sink);
// The same rows as stored: each state sealed under its customer's data key from `keys`
// (throws eventstore::CorruptionError for a customer without keys).
void sealed_customer_rows(const ReplayedLedger& ledger, const eventstore::KeyStore& keys, domain::CustomerId from,
                          domain::CustomerId to, const RowSink& sink);

}  // namespace ledger::projections
