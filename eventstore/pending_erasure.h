// The pending-erasure records: a purge writes one in its own batch; the erasure compaction pass
// removes it only once the purged bytes are verified gone from every file. A record that is
// still there at start-up means the pass must run (again). Keys are "erasure.pending." ‖ purge
// seq (big-endian) in meta.
#pragma once

#include <cstdint>
#include <vector>

#include <rocksdb/write_batch_base.h>

#include "eventstore/reader.h"

namespace ledger::eventstore {

void record_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq);
void clear_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq);
// Purge seqs whose erasure is not yet verified, ascending.
std::vector<std::uint64_t> pending_erasures(const Reader& reader);

}  // namespace ledger::eventstore
