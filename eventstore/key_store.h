// KeyStore: the customers' keys, kept apart from the data they protect, in a small RocksDB
// database of its own (its own WAL and files) in the data directory's `keystore/`
// subdirectory. Each customer has two random 32-byte keys: the HMAC key of its entries'
// digests and the data key that seals its personal values (eventstore/sealing.h).
//
// Because the keys are apart, destroying them is fast and complete: shred() deletes the purged
// customers' keys, flushes and compacts this small store, and checks that no byte of those keys
// is left in any of its files. From then on every copy of their sealed values (live files, WAL,
// checkpoints, backups) is unreadable, before the data's own erasure pass has even started.
//
// Keys are made before the values they seal: a new customer's keys are reserved in blocks of
// kReservedKeys ids ahead, in one synced write. Once half of a block is taken, the next block
// is made and written on a thread of its own, so that a create does not wait for the key
// store's disk at all while ids are taken in order (the writer's; ids are never reused); a
// create that reaches the next block before it is durable waits for it. A crash can leave keys
// of ids not yet used; they are used when those ids are.
//
// Thread-safe (RocksDB is; reserving takes a lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

#include "eventstore/crypto.h"
#include "eventstore/sealing.h"
#include "eventstore/thread_annotations.h"

namespace ledger::eventstore {

struct CustomerKeys {
  StreamKey hmac{};  // digests of the customer's log entries
  DataKey data{};    // seals the customer's personal values
};

// What destroying keys did. The keys' bytes are searched for in every file of the store, but
// only the keys still present when shred() ran can be: after a restart between the delete and
// the check, keys_probed is below keys_deleted (or 0) and the check covers fewer keys.
struct KeyShred {
  std::uint64_t customers = 0;      // customers whose keys were to be destroyed
  std::uint64_t keys_deleted = 0;   // of them, those whose keys were still stored
  std::uint64_t keys_probed = 0;    // customers whose key bytes were searched for after the compaction
  std::uint64_t files_scanned = 0;  // files of the key store read
  std::uint64_t bytes_scanned = 0;
  std::vector<std::string> residue_files;  // files still holding a destroyed key's bytes
  std::int64_t finished_at_us = 0;         // when the check ended (wall clock)
  double seconds = 0;                      // the delete, flush, compaction and check
  bool verified() const { return residue_files.empty(); }
};

class KeyStore {
 public:
  static constexpr const char* kDirectory = "keystore";
  static constexpr std::uint64_t kReservedKeys = 4096;

  enum class Mode { kWritable, kReadOnly, kSecondary };
  // Opens `data_dir`/keystore. Writable creates it; read-only and secondary opens of a data
  // directory that has none give an empty store. A secondary keeps its info logs in
  // `secondary_path`. Throws StorageError.
  static std::unique_ptr<KeyStore> open(const std::filesystem::path& data_dir, Mode mode,
                                        const std::filesystem::path& secondary_path = {});
  // Opens a copy of a key store (checkpoint_to) at `dir` itself, read-only or writable (to
  // destroy keys in it). Throws StorageError, also when `dir` holds no key store.
  static std::unique_ptr<KeyStore> open_copy(const std::filesystem::path& dir, Mode mode);
  // A consistent copy of the store at `dir` (must not exist): a RocksDB Checkpoint, hard-linked
  // where the filesystem allows. Throws StorageError.
  void checkpoint_to(const std::filesystem::path& dir);
  ~KeyStore();  // wipes the reserved keys it keeps
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  bool exists() const { return db_ != nullptr; }

  // The customer's keys; nullopt when it has none (purged, or never given keys here).
  std::optional<CustomerKeys> get(std::uint64_t customer) const;
  // The same for many customers at once (one RocksDB MultiGet), in the order of `customers`.
  std::vector<std::optional<CustomerKeys>> get_many(const std::vector<std::uint64_t>& customers) const;
  // The keys of customer `customer`, about to be created: when it has none yet, keys for it and
  // the next kReservedKeys − 1 ids are made and written, synced, first (or were, ahead: see the
  // header comment). Writable stores only.
  CustomerKeys for_new_customer(std::uint64_t customer) EXCLUDES(reserve_mutex_);
  // An iterator over the store's rows (u64 customer id → hmac key ‖ data key), for passes that
  // need many customers' keys in id order; nullptr when there is no store. Must not outlive it.
  std::unique_ptr<rocksdb::Iterator> scan() const;
  // Stores keys for customers that have none (moving keys in from elsewhere), synced.
  void put(const std::vector<std::pair<std::uint64_t, CustomerKeys>>& keys);
  // Destroys the customers' keys (see the header comment). Files an iterator still pins are
  // searched again until they are gone, up to `unpin_timeout`; any left then are residue.
  // Idempotent.
  KeyShred shred(const std::vector<std::uint64_t>& customers,
                 std::chrono::milliseconds unpin_timeout = std::chrono::milliseconds(10'000)) EXCLUDES(reserve_mutex_);
  // Every file of the store that is not one RocksDB uses now: SST files outside its live set,
  // WAL files it no longer needs. Relative to the data directory.
  std::vector<std::string> stray_files();
  // Secondary stores: reads the primary's writes since open or the last call.
  void catch_up();
  // Flushes and closes; the destructor calls it.
  void close();

 private:
  KeyStore() = default;
  std::filesystem::path dir_;
  std::filesystem::path data_dir_;
  Mode mode_ = Mode::kReadOnly;
  Mutex reserve_mutex_;
  RandomKeys random_ GUARDED_BY(reserve_mutex_);
  // The block reserved last, kept so that a create needs no read: keys of ids
  // [reserved_first_, reserved_first_ + reserved_.size()).
  std::uint64_t reserved_first_ GUARDED_BY(reserve_mutex_) = 0;
  std::vector<CustomerKeys> reserved_ GUARDED_BY(reserve_mutex_);
  // The block after it, being made and written ahead (valid() while it is not taken): keys of
  // ids [next_first_, next_first_ + kReservedKeys), or none when an id there already had keys.
  std::uint64_t next_first_ GUARDED_BY(reserve_mutex_) = 0;
  std::future<std::vector<CustomerKeys>> next_ GUARDED_BY(reserve_mutex_);
  // Whether `customer`'s keys are in reserved_.
  bool reserved(std::uint64_t customer) const REQUIRES(reserve_mutex_);
  // Makes `block`, the keys of ids from `first` on, the reserved block; wipes the one before.
  void keep_reserved(std::uint64_t first, std::vector<CustomerKeys> block) REQUIRES(reserve_mutex_);
  // Makes and writes, synced, the keys of ids [first, first + kReservedKeys); none when `first`
  // already has keys (written ahead by an earlier process).
  std::vector<CustomerKeys> write_block(std::uint64_t first, RandomKeys& random);
  // Waits for the block written ahead, if any, and wipes it.
  void drop_next_block() REQUIRES(reserve_mutex_);
  std::unique_ptr<rocksdb::DB> db_;
};

// Customers' keys looked up in ascending id order through an iterator over the store, for
// passes over many customers: a lookup just after the last one is a step or two, where a Get
// per customer costs a search from the top. The iterator is made anew every kLookups lookups:
// an iterator pins the files it reads, and shred() cannot remove files a long pass pins.
// Throws StorageError as KeyStore::get. One thread at a time; must not outlive the store.
class KeyCursor {
 public:
  static constexpr int kLookups = 1024;
  explicit KeyCursor(const KeyStore& keys) : keys_(keys) {}
  std::optional<CustomerKeys> find(std::uint64_t customer);

 private:
  const KeyStore& keys_;
  std::unique_ptr<rocksdb::Iterator> it_;
  int lookups_ = 0;
};

// Opens the sealed payloads of log entries with their customers' data keys, which it keeps
// while it lives (a pass over the log meets the same customers again and again; at most
// kCachedKeys at a time, in a table indexed by the customer's id, so that a customer's key
// replaces the one of the id kCachedKeys before it). Keys it does not hold are looked up
// through a KeyCursor: a pass over the log meets customers mostly in ascending id order
// (created in that order), where a cursor steps from one to the next and a Get per customer
// searched from the top (a fold of 200,000 entries spent most of its time in those Gets). Wipes
// the keys when destroyed. One thread at a time.
class PayloadOpener {
 public:
  static constexpr std::size_t kCachedKeys = 65536;
  explicit PayloadOpener(const KeyStore& keys) : cursor_(keys) {}
  ~PayloadOpener();
  PayloadOpener(const PayloadOpener&) = delete;
  PayloadOpener& operator=(const PayloadOpener&) = delete;

  // The sealed payload of entry `seq` of `customer` opened into a word-aligned buffer that is
  // valid until the next call. Throws CorruptionError naming the seq when the payload is not
  // sealed, the customer has no key (its keys were destroyed) or the value does not open
  // (sealing.h).
  std::string_view open(std::uint64_t seq, std::uint64_t customer, std::string_view payload);

  // The data key of `customer` as open() finds it, kept; nullptr when the customer has none.
  // Valid until the next call. Throws StorageError as KeyStore::get.
  const DataKey* find_key(std::uint64_t customer);
  // Keeps `key` as the data key of `customer`, found by another thread's opener (find_key), so
  // that open() does not look it up again.
  void keep_key(std::uint64_t customer, const DataKey& key);

 private:
  struct CachedKey {
    std::uint64_t customer = 0;  // 0: empty (customer ids start at 1)
    DataKey key{};
  };
  CachedKey& slot(std::uint64_t customer);
  void forget();
  KeyCursor cursor_;
  // Indexed by id modulo its size, which doubles from a few slots up to kCachedKeys as keys
  // are kept (an opener made for one entry stays small).
  std::vector<CachedKey> cache_;
  std::size_t cached_ = 0;  // slots filled
  std::vector<std::uint64_t> words_;
};

}  // namespace ledger::eventstore
