// Rebuilding every projection from the log: the rows are written as SST files into a staging
// directory and ingested, and a marker in meta covers the moment between removing the old rows
// and loading the new ones (docs/storage.md, "Verify and rebuild"). Not thread-safe with a
// running writer: callers stop writes first.
#pragma once

#include <cstdint>

#include "eventstore/database.h"
#include "eventstore/reader.h"

namespace ledger::projections {

// Replaces every projection with one built from the log. The new rows are written as SST
// files and ingested, not put through the memtable; the old rows are removed just before. A
// marker in meta covers the gap between the two: until the rebuild finishes, reopening the
// directory for writing runs it again (finish_interrupted_rebuild) and verify fails.
// Returns the number of log entries replayed. Throws StorageError on failure.
std::uint64_t rebuild_projections(eventstore::Database& database);

// True while a rebuild has removed the old projection rows and not finished loading new ones:
// the projections must not be read or written until it is run again.
bool rebuild_interrupted(const eventstore::Reader& reader);

// For whoever opens a data directory to write (the command service): runs the rebuild again
// when one was cut off and returns true; otherwise removes files a rebuild cut off before
// changing anything left behind, and returns false. Throws StorageError on failure.
bool finish_interrupted_rebuild(eventstore::Database& database);

}  // namespace ledger::projections
