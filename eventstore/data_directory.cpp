#include "eventstore/data_directory.h"

#include <algorithm>

#include <rocksdb/metadata.h>

#include "eventstore/key_store.h"

namespace ledger::eventstore {

namespace fs = std::filesystem;

FileName parse_name(const fs::path& path) {
  FileName out;
  const auto stem = path.stem().string();
  out.ext = path.extension().string();
  if (!stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    out.number = std::stoull(stem);
  }
  return out;
}

std::vector<DirFile> list_files(const fs::path& dir) {
  std::vector<DirFile> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const auto size = it->file_size(size_ec);
    if (size_ec) continue;  // deleted while listing
    files.push_back({it->path(), fs::relative(it->path(), dir).string(), size});
  }
  if (ec) throw StorageError("listing data directory " + dir.string() + ": " + ec.message());
  return files;
}

std::uint64_t directory_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  for (const auto& f : list_files(dir)) total += f.size;
  return total;
}

LiveSet live_set(Database& database) {
  LiveSet live;
  std::vector<rocksdb::LiveFileMetaData> metadata;
  database.db().GetLiveFilesMetaData(&metadata);
  for (const auto& m : metadata) live.ssts[fs::path(m.name).filename().string()] = m.column_family_name;
  if (!database.db().GetIntProperty("rocksdb.min-log-number-to-keep", &live.min_wal)) {
    throw StorageError("RocksDB does not report rocksdb.min-log-number-to-keep");
  }
  return live;
}

std::vector<std::string> stray_files(Database& database) {
  const auto files = list_files(database.dir());
  const auto live = live_set(database);
  std::vector<std::string> stray = database.key_store().stray_files();
  const auto key_store_dir = database.key_store().dir();
  for (const auto& f : files) {
    // The key store's files are its own to account for (above).
    if (f.path.parent_path() == key_store_dir) continue;
    const auto name = parse_name(f.path);
    const bool nested = f.path.parent_path() != database.dir();
    bool bad = false;
    if (name.ext == ".sst") bad = nested || !live.ssts.contains(f.path.filename().string());
    else if (name.ext == ".log") bad = nested || name.number < live.min_wal;
    else if (name.ext == ".blob" || name.ext == ".trash") bad = true;
    else bad = nested;
    // A file RocksDB deleted after the listing is not stray.
    if (bad && fs::exists(f.path)) stray.push_back(f.name);
  }
  return stray;
}

// What is left after RocksDB's own scan is not RocksDB's to delete: a copy under another name,
// a subdirectory, a blob or trash file.
bool no_stray_files(Database& database, std::optional<std::chrono::steady_clock::time_point>& last_scan) {
  using Clock = std::chrono::steady_clock;
  if (stray_files(database).empty()) return true;
  if (last_scan && Clock::now() - *last_scan < std::chrono::seconds(1)) return false;
  last_scan = Clock::now();
  database.delete_obsolete_files();
  return stray_files(database).empty();
}

bool quiet(Database& database) {
  for (auto* family : database.all_families()) {
    std::uint64_t versions = 0, snapshots = 0;
    if (!database.db().GetIntProperty(family, "rocksdb.num-live-versions", &versions) ||
        !database.db().GetIntProperty(family, "rocksdb.num-snapshots", &snapshots)) {
      throw StorageError("RocksDB does not report live versions or snapshots");
    }
    if (versions != 1 || snapshots != 0) return false;
  }
  return true;
}

}  // namespace ledger::eventstore
