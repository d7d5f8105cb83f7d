// ErasureReport: what an erasure compaction pass (eventstore/erasure_pass.h) found, as one typed
// value from the pass through the erasure worker to the protocol (server/erasure_wire.h), and
// its one JSON form: the text stored in `meta` under "erasure.report." ‖ u64(purge seq) and
// shown by the tools (field names in docs/storage.md, "Meta keys"). Counts, times and file
// names only; never probe bytes or other personal data.
//
// The JSON is written and read with Boost.JSON. Reading accepts a report stored by any earlier
// version: every field is optional (absent: zero, empty or null) and unknown fields are ignored.
//
// Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include "eventstore/database.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {

// Where a purge's erasure stands.
enum class ErasureState {
  kPending,      // no pass has reported on it yet (nothing stored)
  kVerified,     // a pass ran to its end and found nothing of the purged customers left
  kNotVerified,  // a pass reported without verifying (residue, stray or undecodable files, an
                 // unredacted entry, no quiescence, destroyed key bytes left, or an error); the
                 // erasure stays pending and the next pass covers it
  kStopped,      // the pass was stopped (shutdown) before verifying; such a report is never
                 // stored, so a reader sees kPending and the next start runs the pass again
};
std::string_view state_name(ErasureState state);

// What the scan could look for (docs/erasure.md).
enum class ErasureCheck {
  kProbed,          // probes from every purged entry
  kPartlyProbed,    // probes from some: the others' old versions were gone (after a restart)
  kNothingToProbe,  // no probe at all
};
// "probed", "partly probed" or "nothing to probe", as the JSON says it.
std::string_view check_name(ErasureCheck check);

// A file (or "rocksdb:<family>" for versions only the database can still return) where probe
// bytes were found, and how many times.
struct ResidueFile {
  std::string file;
  std::uint64_t hits = 0;
};

struct ErasureReport {
  ErasureState state = ErasureState::kPending;
  std::vector<std::uint64_t> purge_seqs;  // the purges this pass covered, ascending
  // The purged customers' keys destroyed beside the pass, when that ran: from then on their
  // sealed values are unreadable everywhere ("unreadable" in the JSON; null before the key store).
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
  std::string error;                 // an I/O failure that ended the pass early

  bool verified() const { return state == ErasureState::kVerified; }
  // What the findings say, for the pass to set `state` from once it ran to its end: kVerified
  // when residue is zero, nothing is stray or undecodable, no entry of a purged customer is left
  // unredacted, the database was quiescent, no error ended the pass, and the destroyed keys (if
  // any) left no byte behind; else kNotVerified.
  ErasureState findings() const;
  // What the scan could look for: from probes, purged_entries and entries_probed. A verified
  // pass that probed nothing shows only that nothing stray or undecodable is left.
  ErasureCheck check() const;
  // The data directory's size before the pass minus after; negative when commands kept writing.
  std::int64_t bytes_reclaimed() const {
    return static_cast<std::int64_t>(bytes_before) - static_cast<std::int64_t>(bytes_after);
  }
};

// The report as one JSON object, its fields in the documented order (docs/storage.md).
std::string to_json(const ErasureReport& report);
// A stored or shown report read back. The state is kVerified when "verified" is true, kStopped
// when "stopped" is, else kNotVerified. nullopt when `json` is not a JSON object.
std::optional<ErasureReport> parse_erasure_report(std::string_view json);

// Adds `report` (to_json) under every purge seq it covers to `batch`.
void put_erasure_report(Database& database, rocksdb::WriteBatch& batch, const ErasureReport& report);
// The report of the last pass that covered `purge_seq`; nullopt when none has been stored yet.
// Throws CorruptionError when the stored value is not a JSON object.
std::optional<ErasureReport> erasure_report(const Reader& reader, std::uint64_t purge_seq);

}  // namespace ledger::eventstore
