// The migration of a data directory written by ledger 0.1.0 to the current layout, and the one
// place in the code that knows the old layout (docs/storage.md, "Migrating a 0.1.0 directory").
// 0.1.0 kept each customer's HMAC key in a `keys` column family, keyed the `numbers_free` rows
// by the first number of their interval, held hashed trigram rows in a `search` family, and
// stored event payloads and customer states in plaintext (they are now sealed, sealing.h).
// Database::open runs the migration on every writable open and refuses a read-only open of a
// directory that still needs it; nothing else reads or writes the old layout: readers refuse a
// plaintext value where a sealed one belongs.
// Not thread-safe: runs inside Database::open, before anyone else uses the database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch_base.h>

namespace ledger::eventstore {

class Database;

// The column families a 0.1.0 directory has and the current layout has not.
const std::vector<std::string>& earlier_layout_families();

// The points after each durable step of the migration, in order. Tests stop the migration
// there, as a crash would.
enum class MigrationStep {
  kKeysMoved,              // every `keys` row has its keys in the key store (synced); rows still there
  kFreeNumbersRewritten,   // `numbers_free` keyed by last number and marked so, in one synced batch
  kFamilyDropped,          // one earlier family dropped (once per family)
  kValuesSealed,           // one synced batch of plaintext values sealed (once per batch)
  kPlaintextCompacted,     // the compaction pass after sealing has run; not yet marked done
};

struct MigrationOptions {
  // Called after each step that changed the directory.
  std::function<void(MigrationStep)> after_step;
  // Values sealed per synced batch (step 4).
  std::uint64_t seal_batch_rows = 1'000;
};

// What a migration did; nothing for a directory already in the current layout.
struct LayoutMigration {
  std::uint64_t keys_moved = 0;            // customers whose keys moved into the key store
  bool free_numbers_rewritten = false;     // and the layout marked
  std::vector<std::string> families_dropped;
  std::uint64_t entries_sealed = 0;        // log payloads sealed
  std::uint64_t states_sealed = 0;         // customer states sealed
  bool compaction_ran = false;              // the pass of step 5 (its report is stored as any pass's)
  bool changed_anything() const {
    return keys_moved != 0 || free_numbers_rewritten || !families_dropped.empty() || entries_sealed != 0 ||
           states_sealed != 0 || compaction_ran;
  }
};

// Brings `database`, opened for writing with its key store, to the current layout:
// 1. the keys of every `keys` row go into the key store, each with a fresh data key, in one
//    synced write (a customer the store already has keeps its keys);
// 2. start-keyed `numbers_free` rows are rewritten keyed by their last number, and the layout
//    marked in meta, in one synced batch;
// 3. each earlier family is dropped (`earlier`: the handles of those the directory has, which
//    must go before the database closes; RocksDB deletes a family's files once its handle does);
// 4. every plaintext payload of a customer's entry and every plaintext state is sealed under its
//    customer's data key where it lies, in synced batches (digests and the chain are of the
//    plaintext, so they do not change); `values.sealed` in meta says "compacting" from before
//    the first batch;
// 5. the erasure compaction pass (no purge, no probes) rewrites every file, so the plaintext's
//    old versions are gone, and `values.sealed` says "done". When an erasure is pending, its own
//    pass (which first recovers its probes from those old versions) compacts instead. When the
//    pass cannot show every file clean, the mark stays "compacting" and the next writable open
//    runs it again.
// A directory without the mark is looked through once for a plaintext value (stopping at the
// first); one with none is marked "done" at once.
// Every step is durable before the next begins, and each is skipped when already done, so a run
// cut off anywhere is finished by the next: no key is lost (the rows go only after the store has
// them) and nothing is done twice. Throws CorruptionError on a malformed `keys` or `numbers_free`
// row or a plaintext value whose customer has no keys, StorageError on I/O failure.
LayoutMigration migrate_layout(Database& database, std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> earlier,
                               const MigrationOptions& options = {});

// What makes `database` (opened read-only; `earlier`: the handles of the earlier layout's
// families its directory has) a directory a writable open would have to migrate, as a phrase
// ("its `keys` family still holds rows", "it holds values stored in plaintext"); nullopt when a
// reader can read it as it is, also when an earlier family is there but empty.
std::optional<std::string> unmigrated_layout(Database& database,
                                             const std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>>& earlier);

// Adds to `batch` the mark that a new directory's `numbers_free` rows are in the current layout;
// the batch that initializes a directory carries it. (A new directory's values are marked
// sealed by the migration at its first open, which finds none in plaintext.)
void mark_current_layout(Database& database, rocksdb::WriteBatchBase& batch);

}  // namespace ledger::eventstore
