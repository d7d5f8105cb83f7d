// Dropping the probes that surviving data shares. A probe (bytes taken from a purged customer's
// data) also found in surviving data belongs to someone else too (another customer with the same
// company, a request key reused after the purge): searching for it would report false residue.
// Customers' bytes live only in the values of `log` and `customers`; every other family holds
// integers, hashes, random keys or fixed names, so only those two are read.
//
// Thread-safety: reads through the database with short-lived iterators (one per slice, so no
// file stays pinned for long); safe to run on a thread of its own while the writer writes and a
// flush or compaction runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "eventstore/database.h"

namespace ledger::eventstore {

// Returns the probes that no surviving plaintext holds, and adds the number dropped to `shared`.
// The same read of the log finds the entries of `purged` (sorted customer ids) that are not
// stubs, into `unredacted` (their seqs): such an entry still holds its customer's data, and since
// the purge took probes only from the entries it redacted, searching for probes would not find it.
// When `abandon` becomes true the read stops at the next slice, and what was not yet seen in
// surviving data is kept. Throws StorageError or CorruptionError when the log cannot be read.
std::vector<std::string> drop_shared(Database& database, std::vector<std::string> probes,
                                     const std::vector<std::uint64_t>& purged, std::uint64_t& shared,
                                     std::vector<std::uint64_t>& unredacted, const std::atomic<bool>& abandon);

}  // namespace ledger::eventstore
