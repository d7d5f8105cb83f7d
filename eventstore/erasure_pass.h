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
// The report (counts, times, file names; never probe bytes) is stored in `meta` under
// "erasure.report." ‖ u64(purge seq) for each purge the pass covered. Only a verified pass clears
// the purges' pending-erasure records; otherwise they stay, and the pass runs again later (at the
// next purge or start-up). Running it again after success changes nothing: it is idempotent.
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
  // stores nothing and returns a report with stopped = true. May be null.
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
  // Or the destruction itself (KeyStore::shred), run on a thread of its own from the start of
  // the pass, beside its flush and compaction (the key store is a database of its own); the pass
  // waits for it before the report is stored and reports it as `keys`.
  std::function<KeyShred()> destroy_keys;
};

// A file (or "rocksdb:<family>" for versions only the database can still return) where probe
// bytes were found, and how many times.
struct ResidueFile {
  std::string file;
  std::uint64_t hits = 0;
};

// What the probes were taken from: the entries the purges redacted (their stubs), and how many
// of those the probes were read from. All of them when the purging process hands its probes to
// the pass; after a restart, only those whose old versions RocksDB still held.
struct ProbeCoverage {
  std::uint64_t purged_entries = 0;
  std::uint64_t entries_read = 0;
};

struct ErasureReport {
  std::vector<std::uint64_t> purge_seqs;  // the purges this pass covered, ascending
  // The purged customers' keys destroyed before the pass, when that ran: from then on their
  // sealed values are unreadable everywhere ("unreadable" in the JSON).
  std::optional<KeyShred> keys;
  std::int64_t started_at_us = 0;
  std::uint64_t probes = 0;          // probes searched for
  std::uint64_t purged_entries = 0;  // entries the purges redacted
  std::uint64_t entries_probed = 0;  // ... whose content the probes were taken from
  std::uint64_t probes_shared = 0;   // dropped before compaction: also in surviving data
  std::uint64_t files_scanned = 0;
  std::uint64_t bytes_scanned = 0;   // file bytes read, plus decoded SST keys and values
  std::uint64_t sst_files = 0;
  std::uint64_t sst_entries = 0;     // decoded entries
  std::uint64_t versions_scanned = 0;  // entries read through the database for SSTs holding hidden versions
  std::uint64_t residue = 0;         // probe hits, all files together
  std::vector<ResidueFile> residue_files;
  std::vector<std::string> stray_files;         // .sst/.log/.blob/.trash outside the live set
  std::vector<std::string> unverifiable_files;  // could not be decoded
  std::vector<std::uint64_t> unredacted_entries;  // seqs of log entries of a purged customer still whole
  bool quiescent = false;            // one live version, no snapshot, no stray file before the scan
  std::uint64_t bytes_before = 0;    // data directory size when the pass started
  std::uint64_t bytes_after = 0;     // ... and when it finished
  std::uint64_t probe_filter_ms = 0;  // dropping probes shared with surviving data
  std::uint64_t flush_ms = 0;
  std::uint64_t compaction_ms = 0;
  std::uint64_t compaction_ranges = 0;     // CompactRange calls, whole families included
  std::uint64_t compacted_files = 0;       // live SST files holding a purged key (all, in a family compacted whole)
  std::uint64_t compacted_file_bytes = 0;  // ... their size
  std::uint64_t live_sst_bytes = 0;        // every live SST file's size when the compaction started
  std::uint64_t verify_ms = 0;       // waiting for quiescence and scanning
  std::uint64_t duration_ms = 0;
  bool stopped = false;
  std::string error;                 // an I/O failure that ended the pass early

  // Residue zero, nothing stray or undecodable, no entry of a purged customer left unredacted,
  // quiescent, the pass ran to the end, and the destroyed keys (if any) left no byte behind.
  bool verified() const;
  // What the scan could look for: "probed" (probes from every purged entry), "partly probed"
  // (probes from some: the others' old versions were gone before they could be read, after a
  // restart) or "nothing to probe" (no probe at all). A verified pass that probed nothing
  // shows only that nothing stray or undecodable is left, not that a purged value is absent.
  std::string_view check() const;
  // One JSON object; no personal data (file names and counts only).
  std::string to_json() const;
};

// Runs the pass for `purge_seqs` (usually every pending erasure) with `probes` from the purged
// customers' data. Stores the report under every seq and, when verified, clears their pending
// records in the same synced write. Logs the outcome; residue is logged as an error naming the
// files. Throws StorageError only when the report itself cannot be stored.
ErasureReport run_erasure_pass(Database& database, const std::vector<std::uint64_t>& purge_seqs,
                               std::vector<std::string> probes, ProbeCoverage coverage = {},
                               const ErasurePassOptions& options = {});

// The stored report JSON of the last pass that covered `purge_seq`; nullopt when none ran yet.
std::optional<std::string> erasure_report(const Reader& reader, std::uint64_t purge_seq);

// Every value RocksDB still holds for `key` in `family` (memtables and live SST files, older
// versions included), newest first. Deletions are skipped. For recovering probes after a crash.
std::vector<std::string> stored_versions(Database& database, Family family, std::string_view key);

}  // namespace ledger::eventstore
