// Raw RocksDB work on a ledger's data directory, which the benchmarks time the ledger's own
// passes against, and the wait that keeps RocksDB's background work out of those timings.
// Not thread-safe: one caller per database.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventstore/database.h"

namespace ledger::bench {

// About the size of one event's envelope and payload in the log: the value the event-log
// limits (write's and import's) append once per command.
inline constexpr std::size_t kLogValueBytes = 300;

// Reads every row of the `log` family through one iterator, with the read options of the
// ledger's own scans, touching its bytes. Stores the keys' and values' bytes in `bytes` and
// returns the rows read. Throws StorageError when the scan fails.
std::uint64_t scan_log(eventstore::Database& db, std::uint64_t& bytes);

// Flushes the memtables, then waits until RocksDB runs and owes no flush or compaction (at most
// two minutes), so that timed runs read SST files and do not share the cores with the
// compactions a fill left behind.
void wait_for_compactions(eventstore::Database& db);

}  // namespace ledger::bench
