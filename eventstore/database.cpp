#include "eventstore/database.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/encoding.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {
namespace {

// The memtables of the requests family: at most 4 MiB each, with a bucket for about every row
// one holds.
constexpr std::size_t kRequestWriteBufferBytes = 4 << 20;
constexpr std::size_t kRequestBuckets = 1 << 15;

constexpr std::array<const char*, kFamilyCount> kFamilyNames = {
    "log", "streams", "customers", "active", "deleted", "numbers_free", "requests", "meta"};

// The families of the 0.1.0 layout that `path` still has; none for a new directory.
std::vector<std::string> earlier_families_in(const rocksdb::DBOptions& options, const std::string& path) {
  std::vector<std::string> present;
  if (rocksdb::DB::ListColumnFamilies(options, path, &present).ok()) {
    const auto& earlier = earlier_layout_families();
    std::erase_if(present, [&](const std::string& name) {
      return std::find(earlier.begin(), earlier.end(), name) == earlier.end();
    });
  } else {
    present.clear();
  }
  return present;
}

// kRequests values start with the time they were written (µs, big-endian). Outcomes older than
// the retention are dropped when compaction meets them; readers ignore them before that.
class ExpiredRequestFilter : public rocksdb::CompactionFilter {
 public:
  explicit ExpiredRequestFilter(std::uint64_t retention_seconds) : retention_us_(retention_seconds * 1'000'000) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*, bool*) const override {
    if (value.size() < 8) return true;
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::uint64_t written = get_u64(std::string_view(value.data(), 8));
    return written + retention_us_ < static_cast<std::uint64_t>(now);
  }
  const char* Name() const override { return "ledger.ExpiredRequestFilter"; }

 private:
  std::uint64_t retention_us_;
};

// The names of the primary's files that a secondary reads: WAL files, SST files, MANIFESTs.
// Unreadable entries are skipped: the primary may delete a file while we list.
std::set<std::string> primary_files(const std::filesystem::path& dir) {
  std::set<std::string> out;
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const auto name = it->path().filename().string();
    const auto extension = it->path().extension();
    if (extension == ".log" || extension == ".sst" || name.rfind("MANIFEST-", 0) == 0) out.insert(name);
  }
  return out;
}

// Whether every WAL file of `before` is still in `after`.
bool no_wal_deleted(const std::set<std::string>& before, const std::set<std::string>& after) {
  return std::all_of(before.begin(), before.end(), [&](const std::string& name) {
    return !name.ends_with(".log") || after.count(name) != 0;
  });
}

// How a secondary instance gets a view of one moment of the primary. RocksDB reads the MANIFEST
// first and the WAL files after. The primary flushes one column family at a time and deletes a
// WAL file once every family has flushed past it; when that deletion falls between the two reads,
// the secondary misses the WAL's batches in the families whose flush it did not see, while other
// families hold them: a torn view (an entry whose customer has no key). So an attempt counts only
// when no WAL file present before it started was deleted while it ran. (A WAL created during the
// attempt and deleted again before its end does not escape this: RocksDB deletes WAL files in
// order, so the one that was live when the attempt started goes no later.) Otherwise it is
// repeated. A failed attempt is repeated when the primary changed its files meanwhile (an SST
// compacted away before the secondary opened it), and reported when nothing changed. The
// primary flushes when a memtable fills or an erasure pass runs: a quiet moment comes soon.
constexpr std::chrono::seconds kSettleTimeout{30};

template <typename Attempt, typename Discard>
void with_settled_view(const std::filesystem::path& dir, const std::string& what, Attempt attempt, Discard discard) {
  const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
  for (int round = 1;; ++round) {
    const auto before = primary_files(dir);
    const auto status = attempt();
    const auto after = primary_files(dir);
    if (status.ok()) {
      if (no_wal_deleted(before, after)) return;
      discard();
    } else if (after == before) {
      Database::check(status, what);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw StorageError(what + ": the primary (ledgerd) kept deleting WAL files for " +
                         std::to_string(kSettleTimeout.count()) + " s (" + std::to_string(round) +
                         " attempts), so no consistent view was read; try again when it writes less");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 * round, 50)));
  }
}

}  // namespace

const char* family_name(Family family) { return kFamilyNames[static_cast<std::size_t>(family)]; }

std::optional<std::string> erasure_blocker(const rocksdb::DBOptions& db,
                                           const std::vector<rocksdb::ColumnFamilyOptions>& families) {
  if (db.WAL_ttl_seconds != 0 || db.WAL_size_limit_MB != 0) return "it keeps old WAL files in an archive";
  if (db.recycle_log_file_num != 0) return "it recycles WAL files with old bytes inside";
  if (db.sst_file_manager && db.sst_file_manager->GetDeleteRateBytesPerSecond() > 0) {
    return "its SstFileManager deletes at a limited rate, keeping .trash files after the pass";
  }
  for (const auto& cf : families) {
    // Only garbage collection of every blob file (age cutoff 1.0) rewrites all old blobs.
    if (cf.enable_blob_files && (!cf.enable_blob_garbage_collection || cf.blob_garbage_collection_age_cutoff < 1.0)) {
      return "it keeps values in blob files without collecting all of their garbage";
    }
  }
  return std::nullopt;
}

void Database::check(const rocksdb::Status& status, const std::string& what) {
  if (!status.ok()) throw StorageError(what + ": " + status.ToString());
}

void Database::multi_get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& keys,
                         const std::string& what,
                         const std::function<void(std::size_t, rocksdb::PinnableSlice&)>& found) {
  if (keys.empty()) return;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db.MultiGet(rocksdb::ReadOptions(), family, keys.size(), slices.data(), values.data(), statuses.data());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    check(statuses[i], what);
    found(i, values[i]);
  }
}

std::unique_ptr<Database> Database::open(const std::filesystem::path& dir, const OpenOptions& options) {
  std::unique_ptr<Database> self(new Database());
  self->dir_ = dir;
  self->options_ = options;
  self->read_only_ = options.read_only || !options.secondary_path.empty();

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  // Old bytes must not outlive a purge's compaction: no WAL archive, no recycled WAL files.
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  db_options.recycle_log_file_num = 0;
  // An idle column family with unflushed data would keep old WAL files alive; bounding the WAL
  // makes RocksDB flush such families on its own.
  db_options.max_total_wal_size = 64 << 20;
  db_options.keep_log_file_num = 4;
  db_options.max_background_jobs = 2;
  // A flush at recovery would drop the versions a purge replaced (no snapshot holds them), and
  // with them the probes a pass restarted after a crash recovers from them: the replayed
  // memtables keep them, and the old WAL files the bytes, until the pass's own flush.
  db_options.avoid_flush_during_recovery = true;
  // The requests family's hash memtable takes one writer at a time; the ledger has one (the
  // committer), and RocksDB orders any others into its write groups.
  db_options.allow_concurrent_memtable_write = false;

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  // Every command with a request key looks its outcome up, and nearly every lookup misses: a
  // Bloom filter lets a miss skip each file's index and data blocks (and the memtable's, its
  // skip list). The filters hold hashes of the hashed keys only.
  rocksdb::BlockBasedTableOptions request_table = table;
  request_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  std::shared_ptr<rocksdb::CompactionFilter> request_filter =
      std::make_shared<ExpiredRequestFilter>(options.request_retention_seconds);
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = options.write_buffer_bytes;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.enable_blob_files = false;
    // Held until the pending erasures are known (compactions_held()); read-only opens never compact.
    cf.disable_auto_compactions = !self->read_only_;
    // Its values are sealed states (AES-GCM output), which no compressor shrinks: Snappy's
    // attempt at every block was CPU spent for nothing in each flush, compaction and rebuild.
    // The other families compress by a fifth or more (the log's envelopes, the requests' outcomes).
    if (static_cast<Family>(i) == Family::kCustomers) cf.compression = rocksdb::kNoCompression;
    if (static_cast<Family>(i) == Family::kRequests) {
      cf.compaction_filter = request_filter.get();
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(request_table));
      cf.memtable_prefix_bloom_size_ratio = 0.02;
      cf.memtable_whole_key_filtering = true;
      // Its keys are hashes, so each row lands at a random place in a skip list memtable: a
      // search from the top, about a sixth of the committer's time under 64 x 4 commands. A
      // hash table of short lists (the keys' first 8 bytes pick the bucket) inserts and finds a
      // row in a step or two; a flush sorts the memtable once. (Capped: a shorter key, which
      // the ledger never writes, is its own prefix.) Iterators must then read in
      // total order (iterate_options(), reader.h). Each memtable holds kRequestBuckets
      // pointers (256 KiB).
      cf.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(8));
      cf.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(kRequestBuckets));
      // The sort is paid where the memtable is flushed, and the erasure pass starts with a
      // flush: small memtables spread it over flushes in the background instead (a 16 MiB one
      // added a third to the pass's time; docs/performance.md).
      cf.write_buffer_size = std::min(cf.write_buffer_size, kRequestWriteBufferBytes);
    }
    descriptors.emplace_back(kFamilyNames[i], cf);
  }
  // RocksDB always has "default"; we keep it empty.
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  self->request_filter_ = request_filter;

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto path = dir.string();
  // The earlier layout's families are opened too: a writable open must name every family, and a
  // read-only one looks into them to tell an unmigrated directory from one that merely kept an
  // empty family.
  for (const auto& name : earlier_families_in(db_options, path)) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::Status status;
  if (!options.secondary_path.empty()) {
    // The primary may delete files the secondary has not opened yet; holding every file open
    // from the start keeps reads working until the next catch_up().
    db_options.max_open_files = -1;
    with_settled_view(
        dir, "cannot open data directory " + path,
        [&] {
          return rocksdb::DB::OpenAsSecondary(db_options, path, options.secondary_path.string(), descriptors, &handles,
                                              &raw);
        },
        [&] {
          for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
          handles.clear();
          delete raw;
          raw = nullptr;
        });
  } else if (options.read_only) {
    status = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &raw);
  } else {
    std::filesystem::create_directories(dir);
    status = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  }
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
      throw StorageError("data directory " + path + " is in use by another process (is ledgerd running on it?)");
    }
    throw StorageError("cannot open data directory " + path + ": " + status.ToString());
  }
  self->db_.reset(raw);
  for (std::size_t i = 0; i < kFamilyCount; ++i) self->handles_[i] = handles[i];
  self->default_handle_ = handles[kFamilyCount];
  // Destroyed before `self` closes the database, also when open() throws.
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> earlier_handles(handles.begin() + kFamilyCount + 1,
                                                                             handles.end());
  handles.resize(kFamilyCount + 1);
  if (self->read_only_) {
    // Migrating in memory would mean reading two layouts everywhere; one writable open instead.
    if (auto why = unmigrated_layout(*self, earlier_handles)) {
      throw StorageError("data directory " + path + " is in the layout of ledger 0.1.0 (" + *why +
                         "); open it once for writing to migrate it (start ledgerd on it, or run a ledger-admin "
                         "command that writes, such as `ledger-admin compact --data " + path + "`), then read it");
    }
  }
  self->key_store_ = KeyStore::open(dir,
                                    !options.secondary_path.empty() ? KeyStore::Mode::kSecondary
                                    : options.read_only             ? KeyStore::Mode::kReadOnly
                                                                    : KeyStore::Mode::kWritable,
                                    options.secondary_path);

  // Refuse to run with a setting that would keep purged bytes alive.
  std::vector<rocksdb::ColumnFamilyOptions> effective_families;
  for (auto* handle : handles) effective_families.push_back(self->db_->GetOptions(handle));
  if (auto why = erasure_blocker(self->db_->GetDBOptions(), effective_families)) {
    throw StorageError("data directory " + path + " is configured so that erasure would be incomplete: " + *why);
  }
  if (!self->read_only_) {
    migrate_layout(*self, std::move(earlier_handles), options.migration);
    self->compactions_held_ = true;
    if (pending_erasures(DatabaseReader(*self)).empty()) {
      self->release_compactions();
    } else {
      spdlog::info("an erasure is pending: automatic compactions wait until its pass has recovered its probes");
    }
  }
  return self;
}

std::vector<rocksdb::ColumnFamilyHandle*> Database::all_families() const {
  std::vector<rocksdb::ColumnFamilyHandle*> out(handles_.begin(), handles_.end());
  out.push_back(default_handle_);
  return out;
}

void Database::release_compactions() {
  if (!compactions_held_.exchange(false)) return;
  for (auto* handle : all_families()) {
    check(db_->SetOptions(handle, {{"disable_auto_compactions", "false"}}), "resuming automatic compactions");
  }
}

void Database::delete_obsolete_files() {
  // Enabling deletions again runs a full scan (FindObsoleteFiles with force) once no one else
  // holds them disabled; a WAL whose number is below every family's log number is deleted then.
  check(db_->DisableFileDeletions(), "holding file deletions");
  check(db_->EnableFileDeletions(/*force=*/false), "deleting obsolete files");
}

void Database::catch_up() {
  // A torn catch-up is healed by the next one: it reads the MANIFEST edits of the flushes that
  // deleted the WAL files the torn one missed.
  with_settled_view(dir_, "catching up with the primary", [&] { return db_->TryCatchUpWithPrimary(); }, [] {});
  // Keys are written before the entries they seal: every key of an entry just read is there.
  key_store_->catch_up();
}

void Database::close() {
  if (!db_) return;
  rocksdb::Status first;
  for (auto* handle : all_families()) {
    auto s = db_->DestroyColumnFamilyHandle(handle);
    if (first.ok() && !s.ok()) first = s;
  }
  handles_ = {};
  default_handle_ = nullptr;
  auto s = db_->Close();
  db_.reset();
  if (key_store_) key_store_->close();
  check(first, "closing column families");
  check(s, "closing database");
}

Database::~Database() {
  try {
    close();
  } catch (...) {
    // The destructor cannot report; explicit close() does.
  }
}

}  // namespace ledger::eventstore
