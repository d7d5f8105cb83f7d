#include "eventstore/key_store.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <openssl/crypto.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/probe_matcher.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kValueBytes = 64;  // hmac key ‖ data key

std::string encode(const CustomerKeys& keys) {
  std::string value(kValueBytes, '\0');
  std::copy(keys.hmac.begin(), keys.hmac.end(), value.begin());
  std::copy(keys.data.begin(), keys.data.end(), value.begin() + 32);
  return value;
}

CustomerKeys decode(std::string_view value, std::uint64_t customer) {
  if (value.size() != kValueBytes) {
    throw StorageError("the key store holds a corrupt key for customer id " + std::to_string(customer));
  }
  CustomerKeys keys;
  std::copy_n(value.begin(), 32, keys.hmac.begin());
  std::copy_n(value.begin() + 32, 32, keys.data.begin());
  return keys;
}

void wipe(std::vector<CustomerKeys>& keys) {
  if (!keys.empty()) OPENSSL_cleanse(keys.data(), keys.size() * sizeof(CustomerKeys));
}

rocksdb::Options store_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // The bytes of a destroyed key must not outlive shred(): no WAL archive, no recycled WAL,
  // no compression (the check reads the files as they are), and nothing kept in blob files.
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  options.recycle_log_file_num = 0;
  options.compression = rocksdb::kNoCompression;
  options.bottommost_compression = rocksdb::kNoCompression;
  options.enable_blob_files = false;
  options.keep_log_file_num = 2;
  options.write_buffer_size = 4 << 20;
  // A flush at recovery would leave the deleted keys' old versions behind in an SST file, where
  // only the next compaction removes them; shred() compacts anyway, and reopening is rare.
  options.max_background_jobs = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(8 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::unique_ptr<KeyStore> KeyStore::open(const fs::path& data_dir, Mode mode, const fs::path& secondary_path) {
  std::unique_ptr<KeyStore> self(new KeyStore());
  self->data_dir_ = data_dir;
  self->dir_ = data_dir / kDirectory;
  self->mode_ = mode;
  const auto path = self->dir_.string();
  auto options = store_options();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  if (mode == Mode::kWritable) {
    status = rocksdb::DB::Open(options, path, &raw);
  } else {
    if (!fs::exists(self->dir_ / "CURRENT")) return self;
    if (mode == Mode::kSecondary) {
      options.max_open_files = -1;
      status = rocksdb::DB::OpenAsSecondary(options, path, (secondary_path / kDirectory).string(), &raw);
    } else {
      status = rocksdb::DB::OpenForReadOnly(options, path, &raw);
    }
  }
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
      throw StorageError("key store " + path + " is in use by another process (is ledgerd running on it?)");
    }
    throw StorageError("cannot open key store " + path + ": " + status.ToString());
  }
  self->db_.reset(raw);
  return self;
}

std::unique_ptr<KeyStore> KeyStore::open_copy(const fs::path& dir, Mode mode) {
  if (!fs::exists(dir / "CURRENT")) throw StorageError(dir.string() + " holds no key store (no CURRENT)");
  std::unique_ptr<KeyStore> self(new KeyStore());
  self->dir_ = dir;
  self->data_dir_ = dir.parent_path();
  self->mode_ = mode;
  rocksdb::DB* raw = nullptr;
  const auto status = mode == Mode::kWritable ? rocksdb::DB::Open(store_options(), dir.string(), &raw)
                                              : rocksdb::DB::OpenForReadOnly(store_options(), dir.string(), &raw);
  Database::check(status, "opening the key store copy " + dir.string());
  self->db_.reset(raw);
  return self;
}

void KeyStore::checkpoint_to(const fs::path& dir) {
  if (!db_) throw StorageError("there is no key store to copy");
  rocksdb::Checkpoint* raw = nullptr;
  Database::check(rocksdb::Checkpoint::Create(db_.get(), &raw), "preparing a key store checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  Database::check(checkpoint->CreateCheckpoint(dir.string()), "copying the key store to " + dir.string());
}

KeyStore::~KeyStore() {
  {
    MutexLock lock(reserve_mutex_);
    drop_next_block();
    wipe(reserved_);
  }
  try {
    close();
  } catch (...) {
    // The destructor cannot report; explicit close() does.
  }
}

void KeyStore::close() {
  if (!db_) return;
  {
    // The block being written ahead uses the database.
    MutexLock lock(reserve_mutex_);
    drop_next_block();
  }
  auto status = db_->Close();
  db_.reset();
  Database::check(status, "closing the key store");
}

std::optional<CustomerKeys> KeyStore::get(std::uint64_t customer) const {
  if (!db_) return std::nullopt;
  std::string value;
  const auto status = db_->Get(rocksdb::ReadOptions(), u64_key(customer), &value);
  if (status.IsNotFound()) return std::nullopt;
  Database::check(status, "reading the key store");
  auto keys = decode(value, customer);
  OPENSSL_cleanse(value.data(), value.size());
  return keys;
}

std::vector<std::optional<CustomerKeys>> KeyStore::get_many(const std::vector<std::uint64_t>& customers) const {
  std::vector<std::optional<CustomerKeys>> keys(customers.size());
  if (!db_) return keys;
  std::vector<std::string> names;
  names.reserve(customers.size());
  for (auto customer : customers) names.push_back(u64_key(customer));
  Database::multi_get(*db_, db_->DefaultColumnFamily(), names, "reading the key store",
                      [&](std::size_t i, rocksdb::PinnableSlice& value) {
                        keys[i] = decode(std::string_view(value.data(), value.size()), customers[i]);
                        // A value RocksDB copied out (from a memtable) is ours to wipe; one pinned
                        // in the block cache is the cache's, as with get().
                        if (!value.IsPinned()) OPENSSL_cleanse(value.GetSelf()->data(), value.GetSelf()->size());
                      });
  return keys;
}

std::unique_ptr<rocksdb::Iterator> KeyStore::scan() const {
  if (!db_) return nullptr;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions()));
}

CustomerKeys KeyStore::for_new_customer(std::uint64_t customer) {
  MutexLock lock(reserve_mutex_);
  if (!reserved(customer) && next_.valid() && customer == next_first_) {
    // The block written ahead; get() rethrows its write's error (the next create tries anew).
    auto block = next_.get();
    if (!block.empty()) keep_reserved(customer, std::move(block));
  }
  if (reserved(customer)) {
    const auto taken = customer - reserved_first_;
    if (taken >= reserved_.size() / 2 && !next_.valid() && mode_ == Mode::kWritable && db_) {
      next_first_ = reserved_first_ + reserved_.size();
      next_ = std::async(std::launch::async, [this, first = next_first_] {
        RandomKeys random;
        return write_block(first, random);
      });
    }
    return reserved_[taken];
  }
  // Ids out of the order blocks are written in: whatever is being written ahead is durable
  // first, so that no two writes give one id different keys.
  drop_next_block();
  if (auto keys = get(customer)) return *keys;
  if (mode_ != Mode::kWritable || !db_) throw StorageError("the key store is open read-only: no customer can be created");
  auto block = write_block(customer, random_);
  if (block.empty()) throw StorageError("customer id " + std::to_string(customer) + "'s keys appeared while it was created");
  keep_reserved(customer, std::move(block));
  return reserved_.front();
}

void KeyStore::keep_reserved(std::uint64_t first, std::vector<CustomerKeys> block) {
  wipe(reserved_);
  reserved_ = std::move(block);
  reserved_first_ = first;
}

bool KeyStore::reserved(std::uint64_t customer) const {
  return customer >= reserved_first_ && customer - reserved_first_ < reserved_.size();
}

std::vector<CustomerKeys> KeyStore::write_block(std::uint64_t first, RandomKeys& random) {
  if (get(first)) return {};
  std::vector<CustomerKeys> block(kReservedKeys);
  rocksdb::WriteBatch batch;
  for (std::uint64_t i = 0; i < kReservedKeys; ++i) {
    block[i] = CustomerKeys{random.next(), random.next()};
    auto value = encode(block[i]);
    Database::check(batch.Put(u64_key(first + i), value), "adding to a key batch");
    OPENSSL_cleanse(value.data(), value.size());
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const auto status = db_->Write(sync, &batch);
  if (!status.ok()) wipe(block);
  Database::check(status, "writing new customers' keys");
  return block;
}

void KeyStore::drop_next_block() {
  if (!next_.valid()) return;
  try {
    auto block = next_.get();
    wipe(block);
  } catch (const std::exception&) {
    // Nothing was kept of a block whose write failed; its ids get keys when they are created.
  }
}

void KeyStore::put(const std::vector<std::pair<std::uint64_t, CustomerKeys>>& keys) {
  if (mode_ != Mode::kWritable || !db_) throw StorageError("the key store is open read-only");
  rocksdb::WriteBatch batch;
  for (const auto& [customer, k] : keys) {
    auto value = encode(k);
    Database::check(batch.Put(u64_key(customer), value), "adding to a key batch");
    OPENSSL_cleanse(value.data(), value.size());
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(db_->Write(sync, &batch), "writing customers' keys");
}

KeyShred KeyStore::shred(const std::vector<std::uint64_t>& customers, std::chrono::milliseconds unpin_timeout) {
  if (mode_ != Mode::kWritable || !db_) throw StorageError("the key store is open read-only");
  const auto start = std::chrono::steady_clock::now();
  KeyShred report;
  report.customers = customers.size();
  // The bytes to look for afterwards: the keys still present now.
  std::vector<std::string> probes;
  rocksdb::WriteBatch batch;
  for (auto customer : customers) {
    if (auto keys = get(customer)) {
      ++report.keys_deleted;
      probes.emplace_back(reinterpret_cast<const char*>(keys->hmac.data()), keys->hmac.size());
      probes.emplace_back(reinterpret_cast<const char*>(keys->data.data()), keys->data.size());
      OPENSSL_cleanse(&*keys, sizeof(*keys));
    }
    Database::check(batch.Delete(u64_key(customer)), "adding to a key batch");
  }
  report.keys_probed = report.keys_deleted;
  {
    // Nor in this process's memory: a reserved block may hold keys of customers created from it.
    MutexLock lock(reserve_mutex_);
    for (auto customer : customers) {
      if (reserved(customer)) {
        OPENSSL_cleanse(&reserved_[customer - reserved_first_], sizeof(CustomerKeys));
      }
    }
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(db_->Write(sync, &batch), "deleting purged customers' keys");
  // The memtable and the WAL that held the keys go with the flush; the SST files that held them
  // go with the compaction, which drops the keys' versions under their tombstones.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  Database::check(db_->Flush(flush), "flushing the key store");
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = true;
  Database::check(db_->CompactRange(compact, nullptr, nullptr), "compacting the key store");
  const ProbeMatcher matcher(std::move(probes));
  const auto deadline = std::chrono::steady_clock::now() + unpin_timeout;
  for (int round = 0;; ++round) {
    // Obsolete files (the old WAL among them) are deleted at once by a full scan; an SST file an
    // iterator still pins stays until it is released, so the search is repeated meanwhile.
    Database::check(db_->DisableFileDeletions(), "holding key store file deletions");
    Database::check(db_->EnableFileDeletions(/*force=*/false), "deleting obsolete key store files");
    report.files_scanned = 0;
    report.bytes_scanned = 0;
    report.residue_files.clear();
    for (fs::recursive_directory_iterator it(dir_), end; it != end; ++it) {
      std::error_code error;
      if (!it->is_regular_file(error)) continue;
      auto bytes = read_file(it->path());
      ++report.files_scanned;
      report.bytes_scanned += bytes.size();
      if (matcher.size() != 0 && matcher.contains_any(bytes)) {
        report.residue_files.push_back(fs::relative(it->path(), data_dir_).string());
      }
      OPENSSL_cleanse(bytes.data(), bytes.size());
    }
    if (report.residue_files.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * (round + 1), 50)));
  }
  report.finished_at_us = now_us();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::vector<std::string> KeyStore::stray_files() {
  std::vector<std::string> stray;
  if (!db_) return stray;
  std::vector<rocksdb::LiveFileMetaData> metadata;
  db_->GetLiveFilesMetaData(&metadata);
  std::set<std::string> live;
  for (const auto& m : metadata) live.insert(fs::path(m.name).filename().string());
  std::uint64_t min_wal = 0;
  if (!db_->GetIntProperty("rocksdb.min-log-number-to-keep", &min_wal)) min_wal = 0;
  for (fs::recursive_directory_iterator it(dir_), end; it != end; ++it) {
    std::error_code error;
    if (!it->is_regular_file(error)) continue;
    const auto& path = it->path();
    const auto ext = path.extension().string();
    const bool nested = path.parent_path() != dir_;
    bool bad = nested;
    if (ext == ".sst") {
      bad = nested || !live.contains(path.filename().string());
    } else if (ext == ".log") {
      const auto stem = path.stem().string();
      bad = nested || (std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                       std::stoull(stem) < min_wal);
    } else if (ext == ".blob" || ext == ".trash") {
      bad = true;
    }
    if (bad && fs::exists(path)) stray.push_back(fs::relative(path, data_dir_).string());
  }
  return stray;
}

void KeyStore::catch_up() {
  if (mode_ != Mode::kSecondary || !db_) return;
  Database::check(db_->TryCatchUpWithPrimary(), "catching up with the primary's key store");
}

std::optional<CustomerKeys> KeyCursor::find(std::uint64_t customer) {
  if (!it_ || ++lookups_ % kLookups == 0) {
    it_.reset();
    it_ = keys_.scan();
  }
  if (!it_) return std::nullopt;
  const auto value = find_ascending(*it_, u64_key(customer), "reading the key store");
  if (!value) return std::nullopt;
  return decode(*value, customer);
}

PayloadOpener::~PayloadOpener() { forget(); }

void PayloadOpener::forget() {
  if (!cache_.empty()) OPENSSL_cleanse(cache_.data(), cache_.size() * sizeof(CachedKey));
  cache_.clear();
  cached_ = 0;
  if (!words_.empty()) OPENSSL_cleanse(words_.data(), words_.size() * sizeof(std::uint64_t));
}

auto PayloadOpener::slot(std::uint64_t customer) -> CachedKey& {
  if (cached_ * 2 >= cache_.size() && cache_.size() < kCachedKeys) {
    // Doubled, each kept key moved to its slot in the larger table (its old one wiped).
    std::vector<CachedKey> larger(std::max<std::size_t>(cache_.size() * 2, 64));
    cached_ = 0;
    for (auto& kept : cache_) {
      if (kept.customer == 0) continue;
      auto& moved = larger[kept.customer % larger.size()];
      if (moved.customer == 0) ++cached_;
      moved = kept;
      OPENSSL_cleanse(&kept, sizeof(kept));
    }
    cache_ = std::move(larger);
  }
  return cache_[customer % cache_.size()];
}

const DataKey* PayloadOpener::find_key(std::uint64_t customer) {
  auto& cached = slot(customer);
  if (cached.customer == customer && customer != 0) return &cached.key;
  auto keys = cursor_.find(customer);
  if (!keys) return nullptr;
  if (cached.customer == 0) ++cached_;
  cached.customer = customer;
  cached.key = keys->data;
  OPENSSL_cleanse(&*keys, sizeof(*keys));
  return &cached.key;
}

void PayloadOpener::keep_key(std::uint64_t customer, const DataKey& key) {
  auto& cached = slot(customer);
  if (cached.customer == 0) ++cached_;
  cached.customer = customer;
  cached.key = key;
}

std::string_view PayloadOpener::open(std::uint64_t seq, std::uint64_t customer, std::string_view payload) {
  const SealPlace place{SealedIn::kLog, customer, seq};
  require_sealed(place, payload);
  const auto* key = find_key(customer);
  if (!key) throw CorruptionError(describe(place) + " is sealed, but its customer has no key (destroyed by a purge?)");
  const auto size = payload.size() - kSealedOverheadBytes;
  words_.resize(size / sizeof(std::uint64_t) + 1);
  auto* out = reinterpret_cast<char*>(words_.data());
  open_sealed(*key, place, payload, out);
  return {out, size};
}

}  // namespace ledger::eventstore
