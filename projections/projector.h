// The projections written in the same batch as the events: customer state by id, the active
// and deleted views by number, and free numbers. (Search is an in-memory index the writer
// updates after the batch is durable: projections/search_index.h.) Every change is expressed as
// "this customer was `before`, is now `after`", so the same code serves commands, purges and
// rebuilds. Used by one thread at a time (the writer).
#pragma once

#include <cstdint>
#include <optional>

#include <rocksdb/write_batch_base.h>

#include "domain/customer.h"
#include "eventstore/reader.h"
#include "eventstore/sealing.h"
#include "projections/free_numbers.h"

namespace ledger::projections {

// Writes into `batch` what changes when a customer goes from `before` to `after`:
// nullopt -> state: created (its number taken from the free intervals);
// state -> state: edited / deleted / undeleted;
// state -> nullopt: purged (state and view row gone, number free again).
// `reader` must see the batch's earlier writes (an OverlayReader over it). `lowest_free`: the
// writer's remembered lowest free interval, kept in step (FreeNumbers). The state is stored
// sealed under `seal_with` when given, else under the customer's data key from the key store;
// throws eventstore::CorruptionError when it has none.
void project(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch,
             const std::optional<domain::Customer>& before, const std::optional<domain::Customer>& after,
             LowestFreeInterval* lowest_free = nullptr, const eventstore::DataKey* seal_with = nullptr);

// A new data directory: every number free, ids from 1. Writes into `batch`.
void initialize_projections(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch);

// True once initialize_projections' batch was written.
bool projections_initialized(const eventstore::Reader& reader);

// The id the next created customer receives, as recorded in meta.
domain::CustomerId load_next_customer_id(const eventstore::Reader& reader);
void store_next_customer_id(eventstore::Database& database, rocksdb::WriteBatchBase& batch, domain::CustomerId next);

}  // namespace ledger::projections
