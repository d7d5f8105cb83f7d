// Probes for the erasure pass: byte strings taken from purged customers' data, which must not
// be found anywhere in the data directory once the pass is done. They are personal data: they
// live in memory only, and are never written, logged or reported.
//
// A probe is a field value (or a request key) of at least eventstore::kMinProbeBytes bytes,
// from every event of the customer's stream, so old values replaced by edits count too.
// Functions take a Reader and use short-lived iterators; thread-safe as far as the Reader is.
#pragma once

#include <cstdint>
#include <optional>
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

// The receipt of purge `purge_seq`: the customers it erased and how many entries of each it
// redacted; nullopt when the log has no entry there. Throws CorruptionError when that entry is
// not a purge.
std::optional<domain::CustomersPurged> purge_receipt(const eventstore::Reader& reader, std::uint64_t purge_seq);
// The entries a purge redacted, all its customers together.
std::uint64_t redacted_entries(const domain::CustomersPurged& receipt);

struct RecoveredProbes {
  ProbeSet probes;
  eventstore::ProbeCoverage coverage;  // entries_read: stubs with an old version still stored
};

// Probes for a purge whose in-memory probes were lost (the process died before its erasure pass
// finished): taken from the old versions RocksDB still holds of its stubs' log rows and of its
// customers' state rows. Empty when those versions are already gone. Run before the pass
// compacts. `receipt` is the purge's (purge_receipt).
RecoveredProbes recover_probes(eventstore::Database& database, std::uint64_t purge_seq,
                               const domain::CustomersPurged& receipt);

}  // namespace ledger::projections
