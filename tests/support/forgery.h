// What a forger who holds the data directory does to hide a change to the log: rewrites
// entries, links the chain again from the first one changed to the head and moves the head in
// meta. For tests that show which checks such a rewrite passes and which catch it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"

namespace ledger::testing {

// The head in meta (docs/storage.md).
inline constexpr const char* kHeadSeqKey = "log.next_seq";
inline constexpr const char* kHeadChainKey = "log.chain";

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
    REQUIRE(batch.Put(db.family(eventstore::Family::kLog), eventstore::u64_key(e.seq), eventstore::encode_envelope(e)).ok());
  }
  REQUIRE(batch.Put(db.family(eventstore::Family::kMeta), kHeadChainKey, eventstore::as_bytes(chain)).ok());
  REQUIRE(db.db().Write(rocksdb::WriteOptions(), &batch).ok());
}

}  // namespace ledger::testing
