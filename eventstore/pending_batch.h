// PendingBatch: the writes of one group commit being built, readable before they are written.
// A WriteBatchBase, so the projections write into it as into any batch; OverlayReader reads the
// database through it.
//
// Rows are read back two ways. The point families (customers, active, deleted, requests: read
// by key only while commands are decided) are found through a hash map of their last write, at
// the cost of one hash per write and per read. The other families that are read back (free
// numbers, meta) keep RocksDB's ordered index (WriteBatchWithIndex), which iterators need:
// each write there is a skip-list search and insert over the group's keys, and each read a
// seek, both comparing keys decoded from the batch; for a create that was a fifth of the
// writer's time, spent on rows that are only ever read by key. Every row, of either kind, goes
// into the one WriteBatch that is written.
//
// Iterating a point family through an OverlayReader while this batch holds writes of it would
// miss them: OverlayReader refuses (std::logic_error). Only a purge lists a point family (the
// deleted customers), and it is decided first in its batch, over none.
//
// Save points cover both indexes. Single-threaded; const reads may come from another thread
// only while nothing writes (the writer reads the batch below it while it is being written).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "eventstore/database.h"

namespace ledger::eventstore {

// Whether rows of `family` are read back by key only while commands are decided.
constexpr bool is_point_family(Family family) {
  return family == Family::kCustomers || family == Family::kActive || family == Family::kDeleted ||
         family == Family::kRequests;
}

class PendingBatch final : public rocksdb::WriteBatchBase {
 public:
  explicit PendingBatch(Database& database);

  enum class Found { kAbsent, kPut, kDeleted };
  // What this batch holds for `key` of `family`, its last write; the value goes to `value`.
  Found find(Family family, std::string_view key, std::string& value) const;
  // Whether this batch holds a write of the point family `family`.
  bool holds_point_writes(Family family) const { return point_writes_[static_cast<std::size_t>(family)] != 0; }
  // The ordered index of the other families (for iterators over the database and this batch).
  rocksdb::WriteBatchWithIndex& ordered() { return batch_; }
  const rocksdb::WriteBatchWithIndex& ordered() const { return batch_; }

  // rocksdb::WriteBatchBase. Put and Delete of a family; writes without a family or with a
  // timestamp, wide columns, merges, single deletes and range deletes are not used by the ledger
  // and are refused (Status::NotSupported).
  using rocksdb::WriteBatchBase::Delete;
  using rocksdb::WriteBatchBase::Put;
  rocksdb::Status Put(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key, const rocksdb::Slice& value) override;
  rocksdb::Status Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override;
  rocksdb::Status Delete(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key) override;
  rocksdb::Status Delete(const rocksdb::Slice& key) override;
  rocksdb::Status Merge(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status Merge(const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status SingleDelete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&) override;
  rocksdb::Status SingleDelete(const rocksdb::Slice&) override;
  rocksdb::Status DeleteRange(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status DeleteRange(const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status Put(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status PutEntity(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::WideColumns&) override;
  rocksdb::Status Merge(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status Delete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status SingleDelete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) override;
  rocksdb::Status DeleteRange(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&,
                              const rocksdb::Slice&) override;
  rocksdb::Status PutLogData(const rocksdb::Slice& blob) override;
  void Clear() override;
  rocksdb::WriteBatch* GetWriteBatch() override { return batch_.GetWriteBatch(); }
  void SetSavePoint() override;
  rocksdb::Status RollbackToSavePoint() override;
  rocksdb::Status PopSavePoint() override;
  void SetMaxBytes(size_t max_bytes) override { batch_.SetMaxBytes(max_bytes); }

 private:
  // The point family of a handle, or nullopt.
  std::optional<Family> point_family(rocksdb::ColumnFamilyHandle* handle) const;
  void remember(Family family, const rocksdb::Slice& key, std::optional<std::string> value);
  static std::string map_key(Family family, std::string_view key);

  Database& database_;
  rocksdb::WriteBatchWithIndex batch_;
  // Family byte ‖ key -> the last write (nullopt: deleted).
  std::unordered_map<std::string, std::optional<std::string>> points_;
  std::array<std::size_t, kFamilyCount> point_writes_{};
  // Since the oldest open save point: each point write's key and what the map held before it
  // (outer nullopt: nothing).
  struct Undo {
    std::string key;
    std::optional<std::optional<std::string>> before;
  };
  std::vector<Undo> undo_;
  std::vector<std::size_t> save_points_;  // undo_.size() at each open save point
};

}  // namespace ledger::eventstore
