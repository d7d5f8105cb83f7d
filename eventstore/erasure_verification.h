// The erasure pass's verification: every file of the data directory searched once for the
// probes, on up to four threads (largest files first, each thread taking the next file when
// done). An SST file is read through its entries and then raw past its data blocks; other files
// are read raw. Versions an SST file's own iterator hides are read through the database instead.
//
// Thread-safety: starts and joins its own threads; call from one thread. Safe while the writer
// writes, but meant to run once the database is quiet (eventstore/data_directory.h).
#pragma once

#include "eventstore/database.h"
#include "eventstore/erasure_report.h"
#include "eventstore/probe_matcher.h"

namespace ledger::eventstore {

// Adds to `report` what the scan found: files and bytes scanned, SST files and entries, versions
// scanned, residue (per file, sorted by name) and files that could not be decoded (sorted).
// Throws StorageError when a file cannot be read (after the other threads stop).
void verify_files(Database& database, const ProbeMatcher& matcher, ErasureReport& report);

}  // namespace ledger::eventstore
