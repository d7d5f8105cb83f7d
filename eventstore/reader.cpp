#include "eventstore/reader.h"

namespace ledger::eventstore {

rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  // Reads of 256 KiB from the first block on: a scan of the log with RocksDB's own readahead
  // (which starts small and grows) took a fifth longer; larger reads gained nothing more.
  options.readahead_size = 256 << 10;
  return options;
}

std::optional<std::string> DatabaseReader::get(Family family, std::string_view key) const {
  std::string value;
  auto status = database_.db().Get(rocksdb::ReadOptions(), database_.family(family),
                                   rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  Database::check(status, std::string("reading ") + family_name(family));
  return value;
}

std::unique_ptr<rocksdb::Iterator> DatabaseReader::iterate(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(database_.db().NewIterator(rocksdb::ReadOptions(), database_.family(family)));
}

std::unique_ptr<rocksdb::Iterator> DatabaseReader::scan(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(database_.db().NewIterator(scan_options(), database_.family(family)));
}

namespace {

enum class InBatch { kAbsent, kPut, kDeleted };

// What `batch` (overwrite_key = true: one index entry per key, its last write) holds for `key`.
InBatch find_in(rocksdb::WriteBatchWithIndex& batch, rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key,
                std::string& value) {
  std::unique_ptr<rocksdb::WBWIIterator> it(batch.NewIterator(family));
  it->Seek(key);
  if (!it->Valid() || it->Entry().key != key) return InBatch::kAbsent;
  const auto entry = it->Entry();
  switch (entry.type) {
    case rocksdb::kPutRecord: value.assign(entry.value.data(), entry.value.size()); return InBatch::kPut;
    case rocksdb::kDeleteRecord:
    case rocksdb::kSingleDeleteRecord: return InBatch::kDeleted;
    default: throw StorageError("a batch being read holds a write other than put and delete");
  }
}

}  // namespace

std::optional<std::string> OverlayReader::get(Family family, std::string_view key) const {
  std::string value;
  const rocksdb::Slice slice(key.data(), key.size());
  if (below_) {
    for (auto* batch : {&batch_, below_}) {
      switch (find_in(*batch, database_.family(family), slice, value)) {
        case InBatch::kPut: return value;
        case InBatch::kDeleted: return std::nullopt;
        case InBatch::kAbsent: break;
      }
    }
    return DatabaseReader(database_).get(family, key);
  }
  auto status = batch_.GetFromBatchAndDB(&database_.db(), rocksdb::ReadOptions(), database_.family(family), slice, &value);
  if (status.IsNotFound()) return std::nullopt;
  Database::check(status, std::string("reading ") + family_name(family));
  return value;
}

std::unique_ptr<rocksdb::Iterator> OverlayReader::iterate(Family family) const {
  return overlay(family, rocksdb::ReadOptions());
}

std::unique_ptr<rocksdb::Iterator> OverlayReader::scan(Family family) const { return overlay(family, scan_options()); }

std::unique_ptr<rocksdb::Iterator> OverlayReader::overlay(Family family, const rocksdb::ReadOptions& options) const {
  auto* handle = database_.family(family);
  rocksdb::Iterator* base = database_.db().NewIterator(options, handle);
  if (below_) base = below_->NewIteratorWithBase(handle, base);
  return std::unique_ptr<rocksdb::Iterator>(batch_.NewIteratorWithBase(handle, base));
}

std::optional<std::string_view> find_ascending(rocksdb::Iterator& it, std::string_view key, const std::string& what) {
  const rocksdb::Slice target(key.data(), key.size());
  if (!it.Valid() || it.key().compare(target) > 0) {
    it.Seek(target);  // the first lookup, or one behind the cursor
  } else {
    for (int steps = 0; it.Valid() && it.key().compare(target) < 0; ++steps) {
      if (steps == 8) {
        it.Seek(target);
        break;
      }
      it.Next();
    }
  }
  if (!it.Valid()) {
    Database::check(it.status(), what);
    return std::nullopt;
  }
  if (it.key() != target) return std::nullopt;
  return std::string_view(it.value().data(), it.value().size());
}

}  // namespace ledger::eventstore
