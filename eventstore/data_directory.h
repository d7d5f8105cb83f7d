// The data directory as the erasure pass sees it: its files (an inventory taken now), the files
// RocksDB still uses (the live set), the files that should not be there (stray), and whether
// RocksDB has let go of every old version and snapshot (quiet).
//
// Thread-safety: free functions over a Database; safe to call while the writer writes. The
// inventory is a snapshot of a moving directory: a file listed may be gone when opened.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/database.h"

namespace ledger::eventstore {

// RocksDB names its files <number>.<ext>; anything else gets number 0.
struct FileName {
  std::uint64_t number = 0;
  std::string ext;
};
FileName parse_name(const std::filesystem::path& path);

struct DirFile {
  std::filesystem::path path;
  std::string name;  // relative to the data directory
  std::uint64_t size = 0;
};

// Every regular file under `dir`, subdirectories included; a file deleted while listing is left
// out. Throws StorageError when the directory cannot be listed.
std::vector<DirFile> list_files(const std::filesystem::path& dir);

// The sum of list_files(dir)'s sizes. Throws as list_files does.
std::uint64_t directory_bytes(const std::filesystem::path& dir);

// The SST files RocksDB uses now (by file name) and the lowest WAL number it still needs.
struct LiveSet {
  std::map<std::string, std::string> ssts;  // file name -> column family
  std::uint64_t min_wal = 0;
};
// Throws StorageError when RocksDB does not report the WAL it needs.
LiveSet live_set(Database& database);

// Files that should not exist (names relative to the data directory): an SST not in the live
// set, a WAL older than the oldest one needed, any blob or trash file, anything in a
// subdirectory (a WAL archive), and the key store's own stray files.
std::vector<std::string> stray_files(Database& database);

// True when stray_files is empty. Files named like RocksDB's own that it no longer needs (above
// all a WAL older than the oldest one needed, recovered empty at open) are not stray: RocksDB
// deletes them at its next full scan of the directory, which this asks for before answering
// false, at most once a second (`last_scan`, updated here) while a stray file waits to be removed.
bool no_stray_files(Database& database, std::optional<std::chrono::steady_clock::time_point>& last_scan);

// True when every column family has one live version and no snapshot: nothing pins an old file.
// Throws StorageError when RocksDB does not report them.
bool quiet(Database& database);

}  // namespace ledger::eventstore
