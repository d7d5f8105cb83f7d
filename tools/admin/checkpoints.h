// Checkpoints (RocksDB Checkpoint: a consistent copy of the data directory, hard-linked where
// possible) and their records in `meta`, so that after a purge the admin can see which copies
// still hold the purged customers' data and remove them. Records: "checkpoint." ‖ u64(taken at,
// µs) → u64(log next seq then) ‖ the checkpoint's path. Writes need the directory opened
// read-write with no writer running.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "eventstore/database.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"

namespace ledger::tools {

struct CheckpointRecord {
  std::int64_t taken_at_us = 0;
  std::uint64_t next_seq = 0;  // every entry below it is in the checkpoint
  std::filesystem::path path;
  bool holds_purged_data = false;  // filled by list_checkpoints
};

// Creates the checkpoint at `dir` (which must not exist) and records it. Throws StorageError.
CheckpointRecord create_checkpoint(eventstore::Database& database, const std::filesystem::path& dir);

// Every recorded checkpoint, oldest first, with holds_purged_data set when a purge after it
// erased customers that have entries in it.
std::vector<CheckpointRecord> list_checkpoints(const eventstore::Reader& reader);

// A copy of the key store (the customers' keys), taken with a checkpoint of the data but kept
// apart from it. Records: "keystore-copy." ‖ u64(taken at, µs) → the copy's path.
struct KeyStoreCopy {
  std::int64_t taken_at_us = 0;
  std::filesystem::path path;
  bool exists = false;
  std::uint64_t purged_keys = 0;  // filled by list_key_store_copies: purged customers it still has keys of
};

// Throws StorageError when `dir` lies inside the data directory (it would go with every copy of
// the data).
void check_key_store_copy_path(const eventstore::Database& database, const std::filesystem::path& dir);
// Copies the key store to `dir` (which must not exist, nor lie inside the data directory) and
// records it. Throws StorageError.
KeyStoreCopy create_key_store_copy(eventstore::Database& database, const std::filesystem::path& dir);

// Every recorded key store copy, oldest first, with purged_keys counted by opening each copy.
std::vector<KeyStoreCopy> list_key_store_copies(const eventstore::Reader& reader);

// Destroys, in the copy, the keys of every customer purged from the ledger (KeyStore::shred:
// delete, flush, compact, search its files): the copy then opens only customers not purged.
eventstore::KeyShred destroy_purged_keys(const eventstore::Reader& reader, const KeyStoreCopy& copy);

// Deletes the checkpoint's directory (only when it looks like a RocksDB directory) and its record.
void remove_checkpoint(eventstore::Database& database, const CheckpointRecord& record);

}  // namespace ledger::tools
