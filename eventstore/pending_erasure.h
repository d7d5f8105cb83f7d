// The pending-erasure records: a purge writes one in its own batch; the erasure compaction pass
// removes it only once the purged bytes are verified gone from every file. A record that is
// still there at start-up means the pass must run (again). Keys are "erasure.pending." ‖ purge
// seq (big-endian) in meta; the value is the redacted entries' seqs (u64 big-endian each), empty
// in records written before it held them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <rocksdb/write_batch_base.h>

#include "eventstore/reader.h"

namespace ledger::eventstore {

// `redacted`: the seqs of the entries the purge redacted, ascending; the record keeps them so that
// the pass rewrites only the files that hold them, after a restart too.
void record_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq,
                            const std::vector<std::uint64_t>& redacted);
void clear_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq);
// Purge seqs whose erasure is not yet verified, ascending.
std::vector<std::uint64_t> pending_erasures(const Reader& reader);
// The seqs the pending purge `purge_seq` redacted, ascending; nullopt when its record holds none
// (written before records kept them) or there is no such record.
std::optional<std::vector<std::uint64_t>> pending_erasure_entries(const Reader& reader, std::uint64_t purge_seq);

}  // namespace ledger::eventstore
