// Database: the RocksDB instance of one data directory, its column families, and the options
// that keep erasure possible. Thread-safe (RocksDB's DB is); the object owns the handles.
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>

#include "eventstore/layout_migration.h"

namespace ledger::eventstore {

class KeyStore;

// I/O failure, corruption or a refused configuration. Not for anything a user caused.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Column families. The names are the on-disk format (docs/storage.md).
enum class Family : std::size_t {
  kLog = 0,      // seq -> envelope
  kStreams,      // customer id ‖ seq -> (empty)
  kCustomers,    // customer id -> current state
  kActive,       // number -> customer id
  kDeleted,      // number -> customer id
  kNumbersFree,  // interval's last number -> its first (inclusive)
  kRequests,     // SHA-256(actor, request key) -> outcome, expiring
  kMeta,         // fixed ASCII names -> counters, chain head, pending erasure, reports
};
constexpr std::size_t kFamilyCount = 8;
const char* family_name(Family family);

// In meta while a rebuild (projections/rebuild.h) has removed the old projection rows and not
// yet finished loading the new ones (docs/storage.md); the migration at open reads it too.
inline constexpr std::string_view kRebuildMarkerKey = "projections.rebuilding";

// Why these options would keep a purged customer's bytes on disk after the erasure pass, or
// nullopt when they would not: a WAL archive (WAL_ttl_seconds, WAL_size_limit_MB), recycled WAL
// files, blob files without full garbage collection, an SstFileManager that deletes at a limited
// rate (its .trash files outlive the pass). Pure.
std::optional<std::string> erasure_blocker(const rocksdb::DBOptions& db,
                                           const std::vector<rocksdb::ColumnFamilyOptions>& families);

struct OpenOptions {
  bool create_if_missing = true;
  // Open without writing: for audits while ledgerd may run elsewhere (a secondary instance
  // would follow it; a read-only instance sees the state at open).
  bool read_only = false;
  // When not empty: open as a RocksDB secondary instance that follows a running primary
  // (ledgerd) through its MANIFEST and WAL; this scratch directory holds the secondary's own
  // info logs. Implies read_only; catch_up() brings in the primary's later writes.
  std::filesystem::path secondary_path;
  std::size_t block_cache_bytes = 64 << 20;
  std::size_t write_buffer_bytes = 16 << 20;
  // Retention of idempotency outcomes in kRequests, enforced by a compaction filter.
  std::uint64_t request_retention_seconds = 7 * 24 * 3600;
  // For the migration of a 0.1.0 directory at a writable open (eventstore/layout_migration.h).
  MigrationOptions migration;
};

class Database {
 public:
  // Opens (creating when allowed) the data directory. A writable open of a directory written
  // by 0.1.0 migrates it to the current layout first (migrate_layout); a read-only or secondary
  // open of one is refused, saying to open it once for writing. Throws StorageError on failure,
  // including when another process holds the directory's lock, when the effective options
  // would defeat erasure (erasure_blocker), and for that refusal.
  static std::unique_ptr<Database> open(const std::filesystem::path& dir, const OpenOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* family(Family f) const { return handles_[static_cast<std::size_t>(f)]; }
  std::vector<rocksdb::ColumnFamilyHandle*> all_families() const;
  const std::filesystem::path& dir() const { return dir_; }
  bool read_only() const { return read_only_; }
  const OpenOptions& options() const { return options_; }
  // The customers' keys (eventstore/key_store.h), opened with the database in the same mode.
  KeyStore& key_store() const { return *key_store_; }

  // Throws StorageError carrying `what` and the status when !status.ok().
  static void check(const rocksdb::Status& status, const std::string& what);
  // One RocksDB MultiGet of `keys` in `family` of `db` (the lookups share each file's and
  // block's work): calls found(i, value) for every key i present, in the order of `keys`; the
  // value is valid during the call. Throws StorageError carrying `what` when a lookup fails.
  static void multi_get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& keys,
                        const std::string& what,
                        const std::function<void(std::size_t, rocksdb::PinnableSlice&)>& found);

  // Secondary instances only: reads the primary's writes made since open or the last call.
  // Throws StorageError on failure.
  void catch_up();

  // A writable open holds RocksDB's automatic compactions while an erasure is pending: they
  // would drop the old versions from which the erasure pass recovers its probes after a restart
  // (a compaction started at open, e.g. of bottommost files whose old versions no snapshot
  // needs any more, races that recovery). The pass releases them once it has its probes; with
  // nothing pending they are released before open() returns. Manual compactions always run.
  bool compactions_held() const { return compactions_held_; }
  // Idempotent. Throws StorageError when RocksDB refuses the option change.
  void release_compactions();

  // Has RocksDB delete every file of its own that it no longer needs, by listing the whole
  // directory as it does at open. Its purge after each flush looks only at the WAL files this
  // instance wrote, so an obsolete WAL recovered at open (an empty one, left by the last process
  // that opened the directory read-write) would otherwise stay until the next open. Writable
  // instances only; throws StorageError when RocksDB refuses.
  void delete_obsolete_files();

  // Flushes memtables and closes. Called by the destructor; explicit for error reporting.
  void close();

 private:
  Database() = default;
  std::filesystem::path dir_;
  OpenOptions options_;
  bool read_only_ = false;
  std::atomic<bool> compactions_held_{false};
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  // Must outlive the DB: column family options point at it.
  std::shared_ptr<rocksdb::CompactionFilter> request_filter_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<KeyStore> key_store_;
};

}  // namespace ledger::eventstore
