// Reader: reads column families either straight from the database or through the batch the
// writer is building (PendingBatch), so that decisions see pending writes.
// A Reader is used by one thread at a time; iterators it returns are short-lived and must not
// outlive it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rocksdb/iterator.h>
#include "eventstore/database.h"
#include "eventstore/pending_batch.h"

namespace ledger::eventstore {

// ReadOptions of every iterator over the ledger's families: in total key order. The requests
// family keeps its memtable in a hash table (database.cpp), which needs a prefix extractor;
// an iterator without total_order_seek would then stop at the end of a key's prefix.
rocksdb::ReadOptions iterate_options();
// ReadOptions of Reader::scan: iterate_options(), with blocks read not added to the block cache
// and files read 256 KiB at a time.
rocksdb::ReadOptions scan_options();

// The value at `key` through an iterator used for lookups in ascending key order: a key just
// after the iterator's position is reached by a few Next() calls, which cost less than a Seek;
// a key behind it, or far ahead, is sought. nullopt when absent. The view is valid until the
// iterator moves. Throws StorageError (naming `what`) when the iterator fails.
std::optional<std::string_view> find_ascending(rocksdb::Iterator& it, std::string_view key, const std::string& what);

class Reader {
 public:
  virtual ~Reader() = default;
  // The value at `key`, nullopt when absent. Throws StorageError on I/O failure.
  virtual std::optional<std::string> get(Family family, std::string_view key) const = 0;
  // The values at `keys`, in their order (nullopt where absent): one get() each unless the
  // reader can look them up together. Throws StorageError on I/O failure.
  virtual std::vector<std::optional<std::string>> get_many(Family family, const std::vector<std::string>& keys) const;
  // A fresh iterator over the family. The caller checks status() after iterating.
  virtual std::unique_ptr<rocksdb::Iterator> iterate(Family family) const = 0;
  // The same, for one pass over many rows (a replay, verify, an export): the blocks it reads
  // are not added to the block cache, so the pass neither evicts the rows that commands and
  // queries keep reading nor pays for inserting blocks it will not read again.
  virtual std::unique_ptr<rocksdb::Iterator> scan(Family family) const = 0;
  Database& database() const { return database_; }

 protected:
  explicit Reader(Database& database) : database_(database) {}
  Database& database_;
};

// Reads what is durable: every acknowledged write.
class DatabaseReader final : public Reader {
 public:
  explicit DatabaseReader(Database& database) : Reader(database) {}
  std::optional<std::string> get(Family family, std::string_view key) const override;
  // One RocksDB MultiGet: the lookups share the work per file and per block (a page of search
  // results reads its customers so).
  std::vector<std::optional<std::string>> get_many(Family family, const std::vector<std::string>& keys) const override;
  std::unique_ptr<rocksdb::Iterator> iterate(Family family) const override;
  std::unique_ptr<rocksdb::Iterator> scan(Family family) const override;
};

// Reads the database overlaid with `batch` and, between the two when given, with `below`: a
// batch written before `batch` that may not be durable yet. Both must outlive this reader;
// `below` must not change meanwhile (another thread may write it to the database). iterate()
// and scan() of a point family (is_point_family) throw std::logic_error while either batch
// holds writes of it, which an iterator would not see.
class OverlayReader final : public Reader {
 public:
  OverlayReader(Database& database, PendingBatch& batch, PendingBatch* below = nullptr)
      : Reader(database), batch_(batch), below_(below) {}
  std::optional<std::string> get(Family family, std::string_view key) const override;
  std::unique_ptr<rocksdb::Iterator> iterate(Family family) const override;
  std::unique_ptr<rocksdb::Iterator> scan(Family family) const override;
  // Reads the database's rows of `family` at `keys` now, together (DatabaseReader::get_many),
  // and answers get() of those keys from them from then on while neither batch holds the key:
  // for a writer that knows which rows its group will read. Only while nothing but the
  // overlaid batches, once written, changes those rows in the database. Replaces what an
  // earlier call read.
  void prefetch(Family family, const std::vector<std::string>& keys);

 private:
  std::unique_ptr<rocksdb::Iterator> overlay(Family family, const rocksdb::ReadOptions& options) const;
  PendingBatch& batch_;
  PendingBatch* below_;
  std::optional<Family> prefetched_family_;
  std::unordered_map<std::string, std::optional<std::string>> prefetched_;
};

}  // namespace ledger::eventstore
