#include "eventstore/reader.h"

#include <stdexcept>

namespace ledger::eventstore {

rocksdb::ReadOptions iterate_options() {
  rocksdb::ReadOptions options;
  options.total_order_seek = true;
  return options;
}

rocksdb::ReadOptions scan_options() {
  auto options = iterate_options();
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

std::vector<std::optional<std::string>> Reader::get_many(Family family, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values;
  values.reserve(keys.size());
  for (const auto& key : keys) values.push_back(get(family, key));
  return values;
}

std::vector<std::optional<std::string>> DatabaseReader::get_many(Family family,
                                                                 const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values(keys.size());
  Database::multi_get(database_.db(), database_.family(family), keys, std::string("reading ") + family_name(family),
                      [&](std::size_t i, rocksdb::PinnableSlice& value) { values[i].emplace(value.data(), value.size()); });
  return values;
}

std::unique_ptr<rocksdb::Iterator> DatabaseReader::iterate(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(database_.db().NewIterator(iterate_options(), database_.family(family)));
}

std::unique_ptr<rocksdb::Iterator> DatabaseReader::scan(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(database_.db().NewIterator(scan_options(), database_.family(family)));
}

std::optional<std::string> OverlayReader::get(Family family, std::string_view key) const {
  std::string value;
  for (const PendingBatch* batch : {static_cast<const PendingBatch*>(&batch_), static_cast<const PendingBatch*>(below_)}) {
    if (!batch) continue;
    switch (batch->find(family, key, value)) {
      case PendingBatch::Found::kPut: return value;
      case PendingBatch::Found::kDeleted: return std::nullopt;
      case PendingBatch::Found::kAbsent: break;
    }
  }
  if (family == prefetched_family_ && !prefetched_.empty()) {
    if (const auto it = prefetched_.find(std::string(key)); it != prefetched_.end()) return it->second;
  }
  return DatabaseReader(database_).get(family, key);
}

void OverlayReader::prefetch(Family family, const std::vector<std::string>& keys) {
  prefetched_.clear();
  prefetched_family_ = family;
  auto values = DatabaseReader(database_).get_many(family, keys);
  for (std::size_t i = 0; i < keys.size(); ++i) prefetched_.insert_or_assign(keys[i], std::move(values[i]));
}

std::unique_ptr<rocksdb::Iterator> OverlayReader::iterate(Family family) const {
  return overlay(family, iterate_options());
}

std::unique_ptr<rocksdb::Iterator> OverlayReader::scan(Family family) const { return overlay(family, scan_options()); }

std::unique_ptr<rocksdb::Iterator> OverlayReader::overlay(Family family, const rocksdb::ReadOptions& options) const {
  if (is_point_family(family) && (batch_.holds_point_writes(family) || (below_ && below_->holds_point_writes(family)))) {
    throw std::logic_error(std::string("the ") + family_name(family) +
                           " rows of a pending batch are read by key only, not iterated");
  }
  auto* handle = database_.family(family);
  rocksdb::Iterator* base = database_.db().NewIterator(options, handle);
  if (below_) base = below_->ordered().NewIteratorWithBase(handle, base);
  return std::unique_ptr<rocksdb::Iterator>(batch_.ordered().NewIteratorWithBase(handle, base));
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
