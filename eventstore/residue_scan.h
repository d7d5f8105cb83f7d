// ResidueScan: searches bytes for the erasure pass's probes (byte strings taken from purged
// customers' data) and counts the hits, per file, into an ErasureReport: raw file bytes read in
// chunks, an SST file's decoded entries, or every version the database holds in a column family.
// The probes' indexes are never reported: they would point at personal data.
//
// Thread-safety: one ResidueScan per thread; several may share one ProbeMatcher (read-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/data_directory.h"
#include "eventstore/database.h"
#include "eventstore/erasure_report.h"
#include "eventstore/probe_matcher.h"

namespace ledger::eventstore {

class ResidueScan {
 public:
  // Counts into `report` (bytes and files scanned, residue, residue files). `matcher` and
  // `report` must outlive the scan.
  ResidueScan(const ProbeMatcher& matcher, ErasureReport& report) : matcher_(matcher), report_(report) {}

  // Counts probe hits in bytes from `where`. The first `already_seen` bytes were searched before
  // (the overlap carried from the previous chunk): a match lying wholly inside them was counted.
  void search(std::string_view bytes, const std::string& where, std::size_t already_seen = 0);

  // Adds `hits` to the report's residue, under file `where`.
  void add_residue(const std::string& where, std::uint64_t hits);

  // Searches the file's bytes from offset `from` on. A file deleted since the listing is skipped;
  // throws StorageError when it cannot be opened, sought or read.
  void raw_file(const DirFile& file, std::uint64_t from = 0);

  // Decodes every visible entry. Returns false when the file cannot be opened as an SST; sets
  // `hidden` to the entries the file holds that its iterator does not show (older versions or
  // values covered by a tombstone in the same file), and `data_end` to where its data blocks
  // end (they come first in the file; 0 when the table does not say).
  bool sst_file(const DirFile& file, std::int64_t& hidden, std::uint64_t& data_end);

  // Every version the database still holds in `family`, in slices so memory stays bounded.
  // Throws StorageError when RocksDB cannot read them.
  void all_versions(Database& database, rocksdb::ColumnFamilyHandle* family, const std::string& where);

 private:
  const ProbeMatcher& matcher_;
  ErasureReport& report_;
  std::vector<char> buffer_;
};

}  // namespace ledger::eventstore
