// The erasure compaction pass: after a purge has redacted customers in the log and removed
// their rows, RocksDB still holds the old bytes in SST files, WAL files and memtables. The pass
// flushes every column family, compacts every column family fully (bottommost level forced), waits
// until nothing pins an old file, and then verifies itself: it searches every file of the data
// directory for probes (byte strings taken from the purged customers' data) and checks that no
// SST, WAL, blob or trash file exists outside RocksDB's live set (after asking RocksDB to delete
// its own obsolete files, such as an empty WAL recovered at open). Probes that surviving data
// also holds are dropped by a scan on a second thread while the flush and compaction run; that
// scan of the log also finds any entry of a purged customer that is not a stub (a purge that
// missed it took no probes from it). The verification scans files on up to four threads.
//
// The report (eventstore/erasure_report.h: counts, times, file names; never probe bytes) is
// stored in `meta` under "erasure.report." ‖ u64(purge seq) for each purge the pass covered.
// Only a verified pass clears the purges' pending-erasure records; otherwise they stay, and the
// pass runs again later (at the next purge or start-up). Running it again after success changes nothing: it is idempotent.
//
// The pass's parts: the data directory's inventory, live set and stray files
// (eventstore/data_directory.h), the dropping of shared probes (eventstore/shared_probes.h), the
// targeted compaction (eventstore/erasure_compaction.h), the verification on several threads
// (eventstore/erasure_verification.h) and its search for probes (eventstore/residue_scan.h).
//
// Thread-safety: one pass at a time per database; the writer may keep writing meanwhile (the pass
// holds no lock of the writer, no snapshot, and only short-lived iterators before verification).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/database.h"
#include "eventstore/erasure_report.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {

// Points the pass reaches, in order. Tests inject crashes and concurrent work here.
enum class ErasureStage {
  kFlushed,               // every memtable flushed
  kFirstFamilyCompacted,  // the first column family compacted, the others not yet
  kCompacted,             // every column family compacted
  kProbesFiltered,        // probes shared with surviving data dropped (on a thread of its own,
                          // started with the pass and overlapping the flush and compaction)
  kQuiescent,             // one live version, no snapshot, no file outside the live set (or timed out)
  kVerified,              // every file scanned; report about to be stored
};
std::string_view stage_name(ErasureStage stage);

struct ErasurePassOptions {
  // How long to wait for readers to let go of old files before verifying anyway (and failing).
  std::chrono::milliseconds quiescence_timeout{60'000};
  // Called on the pass's thread at each stage; must not call back into the pass.
  std::function<void(ErasureStage)> on_stage;
  // When it becomes true the pass stops at the next step (a running compaction is cancelled),
  // stores nothing and returns a report in state kStopped. May be null.
  std::atomic<bool>* stop = nullptr;
  // The customers the purges erased (their ids). Every entry of theirs must be a stub: while the
  // pass reads the log it reports any that is not (ErasureReport::unredacted_entries), since a
  // purge that missed an entry had no probes from it either.
  std::vector<std::uint64_t> purged_customers;
  // Their numbers, and the seqs of the entries the purges redacted (nullopt when a purge's record
  // does not list them): the compaction rewrites only the files that hold one of these keys
  // (eventstore/erasure_compaction.h). With no purged customer every family is compacted whole.
  std::vector<std::uint64_t> purged_numbers;
  std::optional<std::vector<std::uint64_t>> redacted_seqs;
  // The purged customers' keys destroyed just before (KeyStore::shred), to report with the pass.
  std::optional<KeyShred> keys;
};

// What the probes were taken from: the entries the purges redacted (their stubs), and how many
// of those the probes were read from. All of them when the purging process hands its probes to
// the pass; after a restart, only those whose old versions RocksDB still held.
struct ProbeCoverage {
  std::uint64_t purged_entries = 0;
  std::uint64_t entries_read = 0;
};

// Runs the pass for `purge_seqs` (usually every pending erasure) with `probes` from the purged
// customers' data. Stores the report under every seq and, when verified, clears their pending
// records in the same synced write. Logs the outcome; residue is logged as an error naming the
// files. Throws StorageError only when the report itself cannot be stored.
ErasureReport run_erasure_pass(Database& database, const std::vector<std::uint64_t>& purge_seqs,
                               std::vector<std::string> probes, ProbeCoverage coverage = {},
                               const ErasurePassOptions& options = {});

// Every value RocksDB still holds for `key` in `family` (memtables and live SST files, older
// versions included), newest first. Deletions are skipped. For recovering probes after a crash.
std::vector<std::string> stored_versions(Database& database, Family family, std::string_view key);

}  // namespace ledger::eventstore
