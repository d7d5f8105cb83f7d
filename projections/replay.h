// The fold of the log into customer states: what the rebuild writes the projections from
// (projections/rebuild.h), what verify compares them against (projections/verify.h) and what
// the auditor's as-of lists show. Holds the replayed customers in memory (about the size of the
// customers column family). Not thread-safe with a running writer: callers stop writes first,
// or read a consistent view.
#pragma once

#include <cstdint>

#include "domain/stored_event.h"
#include "eventstore/envelope.h"
#include "eventstore/reader.h"
#include "projections/replayed_ledger.h"

namespace ledger::projections {

// Folds the log (seq <= until, all when 0) into customer states. Stubs are skipped; a purge
// removes its customers. Throws CorruptionError naming the seq of an unreadable entry.
ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until = 0);

// The fold one entry at a time, for passes that do more with each entry (verify, the
// auditor's as-of lists): folds `entry`, the next entry of the log, into `ledger`. The payload
// is read in place and applied to the customer's state without an Event in between. Throws
// CorruptionError naming the entry's seq when its payload cannot be read or names a customer
// id the entries up to it could not have created.
void fold_entry(ReplayedLedger& ledger, const eventstore::EnvelopeView& entry);
// The same for an unredacted entry whose payload the caller has read already.
void fold_entry(ReplayedLedger& ledger, const eventstore::EnvelopeView& entry, const domain::StoredEvent& event);

}  // namespace ledger::projections
