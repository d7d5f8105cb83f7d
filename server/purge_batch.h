// A purge's share of a group commit: what GroupBatch::apply (server/group_batch.h) writes for a
// CustomersPurged event. Every entry of each purged customer becomes a stub, the receipt records
// their count per customer and the Merkle root of their digests, the customers leave the
// projections (their numbers become free), and the purge is recorded as a pending erasure with
// the seqs it redacted, for the erasure pass (eventstore/erasure_pass.h, run by
// server/erasure_worker.h) to finish once the batch is durable.
//
// Single-threaded: the writer's, inside one GroupBatch.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "domain/events.h"
#include "eventstore/database.h"
#include "eventstore/reader.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"

namespace ledger::server {

struct PurgeWrites {
  // Probes from the purged customers' data, old values included: personal data, for the erasure
  // pass in memory once the batch is durable (projections/erasure_probes.h).
  std::vector<std::string> probes;
  // Each purged customer leaving the search index.
  std::vector<projections::SearchIndex::Change> changes;
};

// Adds the purge at `purge_seq` to `batch`, reading through `overlay` (the database overlaid with
// the batch). Fills `purged`'s entries_redacted and merkle_root, then calls `append_receipt`,
// which must append the purge's own entry (the event holding `purged`) at `purge_seq`. Throws
// CorruptionError, having added part of the purge, when a purged customer has no state or its
// stream index does not list every entry of its stream: the caller must roll the batch back.
// "*database", "*overlay" and "*batch" are only used during the call.
PurgeWrites add_purge(eventstore::Database& database, const eventstore::OverlayReader& overlay,
                      eventstore::PendingBatch& batch, std::uint64_t purge_seq, domain::CustomersPurged& purged,
                      projections::LowestFreeInterval& lowest_free, const std::function<void()>& append_receipt);

}  // namespace ledger::server
