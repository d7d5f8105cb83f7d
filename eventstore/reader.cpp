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

std::optional<std::string> OverlayReader::get(Family family, std::string_view key) const {
  std::string value;
  auto status = batch_.GetFromBatchAndDB(&database_.db(), rocksdb::ReadOptions(), database_.family(family),
                                         rocksdb::Slice(key.data(), key.size()), &value);
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
  return std::unique_ptr<rocksdb::Iterator>(batch_.NewIteratorWithBase(handle, database_.db().NewIterator(options, handle)));
}

}  // namespace ledger::eventstore
