// What a forger who holds the data directory (key store included) does: stores changed entries
// and states as the ledger stores them, sealed under their customers' keys; to hide a change to
// the log, rewrites entries, links the chain again from the first one changed to the head and
// moves the head in meta. For tests that show which checks such a rewrite passes and which catch it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"
#include "projections/customer_codec.h"

namespace ledger::testing {

// The head in meta (docs/storage.md).
inline constexpr const char* kHeadSeqKey = "log.next_seq";
inline constexpr const char* kHeadChainKey = "log.chain";

// `entry` as the ledger stores it: a customer's payload sealed under the customer's data key.
inline std::string stored_entry(eventstore::Database& db, eventstore::Envelope entry) {
  if (eventstore::stored_sealed(entry.customer, entry.payload)) {
    const auto keys = db.key_store().get(entry.customer);
    REQUIRE(keys);
    entry.payload = eventstore::seal(keys->data, {eventstore::SealedIn::kLog, entry.customer, entry.seq}, entry.payload);
  }
  return eventstore::encode_envelope(entry);
}

// Overwrites the log entry of `entry.seq` with `entry`, stored as the ledger stores it.
inline void put_entry(eventstore::Database& db, const eventstore::Envelope& entry) {
  REQUIRE(db.db().Put(rocksdb::WriteOptions(), db.family(eventstore::Family::kLog), eventstore::u64_key(entry.seq),
                      stored_entry(db, entry)).ok());
}

// Overwrites the state of `customer.id` with `customer`, sealed as the ledger stores it.
inline void put_state(eventstore::Database& db, const domain::Customer& customer) {
  REQUIRE(db.db().Put(rocksdb::WriteOptions(), db.family(eventstore::Family::kCustomers), eventstore::u64_key(customer.id),
                      projections::seal_customer(db.key_store(), customer)).ok());
}

// Passes every entry from `from` (> 1) to the head through `change`, then rewrites them with
// the chain linked again and the head's chain in meta, in one batch.
inline void rewrite_and_rechain(eventstore::Database& db, std::uint64_t from,
                                const std::function<void(eventstore::Envelope&)>& change) {
  eventstore::DatabaseReader reader(db);
  std::vector<eventstore::Envelope> entries;
  eventstore::scan_entries(reader, from, [&](const eventstore::Envelope& e) {
    entries.push_back(e);
    return true;
  });
  auto previous = eventstore::read_entry(reader, from - 1);
  REQUIRE(previous);
  auto chain = previous->chain;
  rocksdb::WriteBatch batch;
  for (auto& e : entries) {
    change(e);
    e.chain = eventstore::chain_link(chain, e);
    chain = e.chain;
    REQUIRE(batch.Put(db.family(eventstore::Family::kLog), eventstore::u64_key(e.seq), stored_entry(db, e)).ok());
  }
  REQUIRE(batch.Put(db.family(eventstore::Family::kMeta), kHeadChainKey, eventstore::as_bytes(chain)).ok());
  REQUIRE(db.db().Write(rocksdb::WriteOptions(), &batch).ok());
}

}  // namespace ledger::testing
