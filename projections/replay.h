// The fold of the log into customer states: what the rebuild writes the projections from
// (projections/rebuild.h), what verify compares them against (projections/verify.h) and what
// the auditor's as-of lists show. Holds the replayed customers in memory (about the size of the
// customers column family). Not thread-safe with a running writer: callers stop writes first,
// or read a consistent view.
#pragma once

#include <cstdint>

#include "eventstore/reader.h"
#include "projections/replayed_ledger.h"

// Declared here before they had headers of their own; server/outcome.h and
// server/command_service.cpp still reach them through this one.
#include "projections/rebuild.h"
#include "projections/verify.h"

namespace ledger::projections {

// Folds the log (seq <= until, all when 0) into customer states. Stubs are skipped; a purge
// removes its customers. Throws CorruptionError naming the seq of an unreadable entry.
ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until = 0);

}  // namespace ledger::projections
