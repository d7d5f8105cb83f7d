// What the erasure pass rewrites, and the rewriting: per column family, the live SST files that
// hold a key of the purged customers (with whatever RocksDB must merge them with), or the whole
// family where the keys are not known. Files that hold none of them are left as they are: they
// cannot hold a purged customer's value, and the pass's scan still reads every file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <rocksdb/options.h>

#include "eventstore/database.h"

namespace ledger::eventstore {

// The keys the purges touched. With no purged customer (the pass after sealing an older
// directory) every family is compacted whole.
struct ErasureTargets {
  std::vector<std::uint64_t> customers;                // purged customer ids
  std::vector<std::uint64_t> numbers;                  // their numbers (the active and deleted views)
  std::optional<std::vector<std::uint64_t>> log_seqs;  // the redacted entries; nullopt: the whole log
};

struct CompactionSummary {
  std::uint64_t ranges = 0;         // CompactRange calls
  std::uint64_t whole_families = 0;  // families compacted over their whole key range
  std::uint64_t files = 0;          // live SST files holding a targeted key (or all, for a whole family)
  std::uint64_t bytes = 0;          // ... their size
  std::uint64_t sst_files = 0;      // every live SST file when the compaction started
  std::uint64_t sst_bytes = 0;      // ... their size
};

// One key range [first, last] (inclusive) of a family.
struct KeyRange {
  std::string first;
  std::string last;
};

// For each family, the ranges to compact: the key ranges of the live files that hold a targeted
// key, overlapping ones merged. nullopt for a family to be compacted whole; an empty list for a
// family with nothing to rewrite.
std::vector<std::optional<std::vector<KeyRange>>> plan_erasure_compaction(Database& database,
                                                                          const ErasureTargets& targets,
                                                                          CompactionSummary& summary);

// Compacts what the plan names with `options` (bottommost files rewritten), family by family in
// Family order, calling `after_family` after each one that was compacted; stops between ranges
// once `stopping` returns true. Throws StorageError when a compaction fails.
CompactionSummary compact_for_erasure(Database& database, const ErasureTargets& targets,
                                      const rocksdb::CompactRangeOptions& options,
                                      const std::function<bool()>& stopping,
                                      const std::function<void()>& after_family);

}  // namespace ledger::eventstore
