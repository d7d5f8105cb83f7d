// sorted_batch: the same writes as a WriteBatch, in key order per column family, with only the
// last write of each key. RocksDB inserts a batch into its memtables one entry after another,
// and its skip list finds the place of a key fastest right after the key before it; a group of
// commands writes its keys in command order, scattered over each family. The result leaves the
// database in the same state as the original, which is written as one atomic batch either way.
#pragma once

#include <optional>

#include <rocksdb/write_batch.h>

namespace ledger::eventstore {

class Database;

// nullopt when `batch` holds a write other than Put and Delete (a merge or a range deletion
// cannot be reordered this way): write the original then.
std::optional<rocksdb::WriteBatch> sorted_batch(Database& database, const rocksdb::WriteBatch& batch);

}  // namespace ledger::eventstore
