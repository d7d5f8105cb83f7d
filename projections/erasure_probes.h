// Probes for the erasure pass: byte strings taken from purged customers' data, which must not
// be found anywhere in the data directory once the pass is done. They are personal data: they
// live in memory only, and are never written, logged or reported.
//
// A probe is a field value (or a request key) of at least eventstore::kMinProbeBytes bytes,
// from every event of the customer's stream, so old values replaced by edits count too.
// Functions take a Reader and use short-lived iterators; thread-safe as far as the Reader is.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "domain/customer.h"
#include "domain/events.h"
#include "eventstore/database.h"
#include "eventstore/envelope.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/reader.h"

namespace ledger::projections {

using ProbeSet = std::set<std::string>;

// Adds the field values an event carries.
void add_probes(const domain::Event& event, ProbeSet& probes);
void add_probes(const domain::CustomerFields& fields, ProbeSet& probes);
// Adds the payload's field values and the request key of an unredacted entry.
void add_probes(const eventstore::Envelope& envelope, ProbeSet& probes);

// Probes from every entry of the customer's stream and from its current state, as `reader`
// sees them. Call before the stream is redacted.
ProbeSet stream_probes(const eventstore::Reader& reader, domain::CustomerId id);

// The customer ids the purge receipt at `purge_seq` names; empty when the log has no entry there.
// Throws CorruptionError when that entry is not a purge.
std::vector<domain::CustomerId> purged_customer_ids(const eventstore::Reader& reader, std::uint64_t purge_seq);

// The number of entries purge `purge_seq` redacted, from its receipt; 0 when the receipt is
// gone. Throws CorruptionError when the entry is not a purge.
std::uint64_t purged_entries(const eventstore::Reader& reader, std::uint64_t purge_seq);

struct RecoveredProbes {
  ProbeSet probes;
  eventstore::ProbeCoverage coverage;  // entries_read: stubs with an old version still stored
};

// Probes for a purge whose in-memory probes were lost (the process died before its erasure pass
// finished): taken from the old versions RocksDB still holds of its stubs' log rows and of its
// customers' state rows. Empty when those versions are already gone. Run before the pass
// compacts; throws CorruptionError when the purge receipt cannot be read.
RecoveredProbes recover_probes(eventstore::Database& database, std::uint64_t purge_seq);

}  // namespace ledger::projections
