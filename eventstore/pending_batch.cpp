#include "eventstore/pending_batch.h"

#include <rocksdb/comparator.h>

namespace ledger::eventstore {
namespace {

rocksdb::Status unused(const char* what) {
  return rocksdb::Status::NotSupported(std::string("a pending batch takes no ") + what);
}

}  // namespace

PendingBatch::PendingBatch(Database& database)
    : database_(database), batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

std::string PendingBatch::map_key(Family family, std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>(family));
  out.append(key);
  return out;
}

std::optional<Family> PendingBatch::point_family(rocksdb::ColumnFamilyHandle* handle) const {
  for (std::size_t f = 0; f < kFamilyCount; ++f) {
    const auto family = static_cast<Family>(f);
    if (is_point_family(family) && database_.family(family) == handle) return family;
  }
  return std::nullopt;
}

PendingBatch::Found PendingBatch::find(Family family, std::string_view key, std::string& value) const {
  if (is_point_family(family)) {
    if (point_writes_[static_cast<std::size_t>(family)] == 0) return Found::kAbsent;
    const auto it = points_.find(map_key(family, key));
    if (it == points_.end()) return Found::kAbsent;
    if (!it->second) return Found::kDeleted;
    value = *it->second;
    return Found::kPut;
  }
  // overwrite_key = true: one index entry per key, its last write.
  std::unique_ptr<rocksdb::WBWIIterator> it(const_cast<rocksdb::WriteBatchWithIndex&>(batch_).NewIterator(database_.family(family)));
  const rocksdb::Slice slice(key.data(), key.size());
  it->Seek(slice);
  if (!it->Valid() || it->Entry().key != slice) return Found::kAbsent;
  const auto entry = it->Entry();
  switch (entry.type) {
    case rocksdb::kPutRecord: value.assign(entry.value.data(), entry.value.size()); return Found::kPut;
    case rocksdb::kDeleteRecord:
    case rocksdb::kSingleDeleteRecord: return Found::kDeleted;
    default: throw StorageError("a batch being read holds a write other than put and delete");
  }
}

void PendingBatch::remember(Family family, const rocksdb::Slice& key, std::optional<std::string> value) {
  auto k = map_key(family, std::string_view(key.data(), key.size()));
  auto [it, fresh] = points_.try_emplace(k);
  if (!save_points_.empty()) {
    undo_.push_back({std::move(k), fresh ? std::nullopt : std::optional<std::optional<std::string>>(it->second)});
  }
  it->second = std::move(value);
  ++point_writes_[static_cast<std::size_t>(family)];
}

rocksdb::Status PendingBatch::Put(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key, const rocksdb::Slice& value) {
  const auto point = point_family(family);
  if (!point) return batch_.Put(family, key, value);
  auto status = batch_.GetWriteBatch()->Put(family, key, value);
  if (status.ok()) remember(*point, key, value.ToString());
  return status;
}

rocksdb::Status PendingBatch::Delete(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key) {
  const auto point = point_family(family);
  if (!point) return batch_.Delete(family, key);
  auto status = batch_.GetWriteBatch()->Delete(family, key);
  if (status.ok()) remember(*point, key, std::nullopt);
  return status;
}

rocksdb::Status PendingBatch::Put(const rocksdb::Slice&, const rocksdb::Slice&) { return unused("write without a family"); }
rocksdb::Status PendingBatch::Delete(const rocksdb::Slice&) { return unused("write without a family"); }
rocksdb::Status PendingBatch::Merge(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) { return unused("merge"); }
rocksdb::Status PendingBatch::Merge(const rocksdb::Slice&, const rocksdb::Slice&) { return unused("merge"); }
rocksdb::Status PendingBatch::SingleDelete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&) { return unused("single delete"); }
rocksdb::Status PendingBatch::SingleDelete(const rocksdb::Slice&) { return unused("single delete"); }
rocksdb::Status PendingBatch::DeleteRange(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) {
  return unused("range delete");
}
rocksdb::Status PendingBatch::DeleteRange(const rocksdb::Slice&, const rocksdb::Slice&) { return unused("range delete"); }
rocksdb::Status PendingBatch::Put(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&,
                                  const rocksdb::Slice&) {
  return unused("timestamp");
}
rocksdb::Status PendingBatch::PutEntity(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::WideColumns&) {
  return unused("wide columns");
}
rocksdb::Status PendingBatch::Merge(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&,
                                    const rocksdb::Slice&) {
  return unused("merge");
}
rocksdb::Status PendingBatch::Delete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) {
  return unused("timestamp");
}
rocksdb::Status PendingBatch::SingleDelete(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&) {
  return unused("single delete");
}
rocksdb::Status PendingBatch::DeleteRange(rocksdb::ColumnFamilyHandle*, const rocksdb::Slice&, const rocksdb::Slice&,
                                          const rocksdb::Slice&) {
  return unused("range delete");
}
rocksdb::Status PendingBatch::PutLogData(const rocksdb::Slice& blob) { return batch_.PutLogData(blob); }

void PendingBatch::Clear() {
  batch_.Clear();
  points_.clear();
  point_writes_.fill(0);
  undo_.clear();
  save_points_.clear();
}

void PendingBatch::SetSavePoint() {
  batch_.SetSavePoint();
  save_points_.push_back(undo_.size());
}

rocksdb::Status PendingBatch::RollbackToSavePoint() {
  if (save_points_.empty()) return rocksdb::Status::NotFound("no save point");
  auto status = batch_.RollbackToSavePoint();
  if (!status.ok()) return status;
  const auto mark = save_points_.back();
  save_points_.pop_back();
  while (undo_.size() > mark) {
    auto& undo = undo_.back();
    --point_writes_[static_cast<unsigned char>(undo.key.front())];
    if (undo.before) {
      points_[undo.key] = std::move(*undo.before);
    } else {
      points_.erase(undo.key);
    }
    undo_.pop_back();
  }
  return status;
}

rocksdb::Status PendingBatch::PopSavePoint() {
  if (save_points_.empty()) return rocksdb::Status::NotFound("no save point");
  auto status = batch_.PopSavePoint();
  save_points_.pop_back();
  // Writes since a popped save point belong to the one before it, if any.
  if (save_points_.empty()) undo_.clear();
  return status;
}

}  // namespace ledger::eventstore
