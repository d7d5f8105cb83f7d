// Converting a data directory written before values were sealed: every plaintext event payload
// and customer state is sealed under its customer's data key, where it lies, and the plaintext
// is then compacted out of every file (docs/storage.md, "Sealed values").
#pragma once

#include <cstdint>
#include <functional>

#include "eventstore/database.h"
#include "eventstore/erasure_pass.h"

namespace ledger::eventstore {

struct SealedExisting {
  std::uint64_t entries = 0;   // log payloads sealed
  std::uint64_t states = 0;    // customer states sealed
  std::uint64_t left = 0;      // plaintext values still found after the compaction (0 when done)
  ErasureReport compaction;    // the pass that removed the old plaintext (when anything was sealed)
  bool sealed_anything() const { return entries + states != 0; }
};

// Seals every plaintext payload of a customer's unredacted entry and every plaintext state, in
// synced batches of SealOptions::batch_rows rows. A value's digest and the chain are of the plaintext, so
// they do not change. Crash-safe and idempotent: a rerun seals what is still plaintext. When
// anything was sealed and no erasure is pending (its own pass, which must first recover its
// probes from old versions, compacts everything then), runs the erasure compaction pass (no purge, no probes: it flushes,
// compacts everything and checks that no file outside RocksDB's live set is left) and then
// counts the plaintext values left in the live data (`left`, 0 unless something wrote plaintext
// meanwhile). For a directory no writer has open. Throws CorruptionError naming the entry or
// customer whose keys are missing, StorageError on I/O failure.
struct SealOptions {
  std::uint64_t batch_rows = 1'000;
  // Called after each synced batch (tests stop the conversion there, as a crash would).
  std::function<void()> after_batch;
};
SealedExisting seal_existing_values(Database& database, const SealOptions& options = {});

}  // namespace ledger::eventstore
