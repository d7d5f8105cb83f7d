// LogScan: the log's entries read on a thread of its own, ahead of the caller, for the passes
// over the whole log (replay, verify, the auditor's as-of lists). RocksDB's reading and
// decompressing of blocks run on that thread while the caller works on the entries already
// read, so on two cores a pass that does about as much with each entry as RocksDB does to find
// it takes about as long as the scan alone. A pass with more to do per entry than its own
// thread keeps up with gives part of it to the scanning thread (BasicLogScan's `prepare`).
//
// Opening the sealed payloads (a key lookup and AES-GCM, about 4 times RocksDB's reading of an
// entry) is shared between the two threads when there is no `prepare`: the scanning thread
// opens the entries of a slice of the customers, the caller's thread the others as next()
// hands them out, and the slice follows which thread waited for the other. Each thread opens
// with a PayloadOpener of its own; the scanning thread looks up every entry's key (one cursor
// through the key store) and hands the caller those it needs with the batch.
//
// A scan is used by one thread, the one that made it. The scanning thread uses only the RocksDB
// iterator made for it (Reader::scan, on the calling thread), its own PayloadOpener (the key
// store is thread-safe) and `prepare`, never the Reader, so the caller may keep reading through
// the Reader meanwhile.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <rocksdb/iterator.h>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {

// Enough entries per batch that handing batches over costs little, few enough batches that the
// scanning thread stays close to the caller: at most 4 MiB read ahead.
inline constexpr std::size_t kLogBatchBytes = 1 << 20;
inline constexpr std::size_t kLogBatches = 4;

// The customers are cut into kOpeningSlices slices by the low bits of their id, reversed, so
// that a share of n slices is about every (kOpeningSlices / n)-th id: whichever customers a
// batch holds, a share of its slices is about that share of its entries.
inline constexpr unsigned kOpeningSlices = 64;
inline unsigned opening_slice(std::uint64_t customer) {
  unsigned slice = 0;
  for (unsigned bit = 1; bit < kOpeningSlices; bit <<= 1) {
    slice = (slice << 1) | static_cast<unsigned>(customer & 1);
    customer >>= 1;
  }
  return slice;
}

template <typename Prepared>
class BasicLogScan {
 public:
  // Called on the scanning thread once per entry, in seq order, with the entry decoded there;
  // it may keep state of its own across calls.
  using Prepare = std::function<void(const EnvelopeView& entry, Prepared& out)>;
  struct Item {
    const EnvelopeView& entry;
    const Prepared& prepared;  // default-constructed without `prepare`
  };

  // Starts reading the entries with seq >= from. With `prepare`, every payload is opened on the
  // scanning thread before `prepare` sees it; without, opening is shared (see the top).
  BasicLogScan(const Reader& reader, std::uint64_t from, Prepare prepare = {});
  // Stops the scanning thread and waits for it.
  ~BasicLogScan();
  BasicLogScan(const BasicLogScan&) = delete;
  BasicLogScan& operator=(const BasicLogScan&) = delete;

  // The next entry in seq order, valid until the following call; nullopt after the last.
  // Throws in the place of the entry it concerns: CorruptionError naming the seq of an
  // unreadable entry or of a payload that does not open, StorageError when RocksDB fails, what
  // `prepare` threw. After a throw, nullopt.
  std::optional<Item> next();

  // How many of the kOpeningSlices slices of customers the scanning thread opened in the
  // batch handed out last (all of them with `prepare`). For tests.
  unsigned scanning_share() const { return current_ ? current_->share : 0; }

 private:
  // Entries read together: their bytes, each from a word boundary so that they are decoded in
  // place, their views, and, when prepared, what `prepare` found.
  struct Batch {
    struct Entry {
      std::uint64_t seq = 0;
      std::size_t word = 0;  // where its bytes start in `words`
      std::size_t size = 0;  // in bytes
    };
    std::vector<std::uint64_t> words;
    std::size_t used = 0;  // words filled
    std::vector<Entry> entries;
    std::vector<EnvelopeView> views;
    std::vector<std::uint64_t> opened;  // the payloads the scanning thread opened
    unsigned share = 0;                 // the slices of customers whose payloads are opened
    // For the entries the caller opens: their customers' data keys, when found; each wiped
    // once kept by the caller's opener, the rest when the batch is reused or destroyed.
    std::vector<DataKey> keys;
    std::vector<std::uint8_t> has_key;
    std::vector<Prepared> prepared;     // with `prepare` only
    std::exception_ptr error;         // after the entries: what stopped the scan
    bool last = false;                // nothing follows this batch

    std::string_view bytes(const Entry& entry) const {
      return {reinterpret_cast<const char*>(words.data() + entry.word), entry.size};
    }
    void wipe_keys() {
      if (!keys.empty()) OPENSSL_cleanse(keys.data(), keys.size() * sizeof(DataKey));
    }
    Batch() = default;
    ~Batch() { wipe_keys(); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
  };

  void scan(std::uint64_t from);
  // Copies `bytes` into `batch`; false when they do not fit and the batch holds entries.
  static bool add(Batch& batch, std::string_view bytes, std::uint64_t seq);
  void prepare(Batch& batch);
  // Moves the scanning thread's share of the opening toward the thread that waited: this one
  // for a free batch (`waited`), or the caller, which has caught up when a batch is handed
  // over with none queued (`full` == 0).
  void balance(bool waited, std::size_t full);
  std::unique_ptr<Batch> take_free();
  void give(std::unique_ptr<Batch> batch);

  std::unique_ptr<rocksdb::Iterator> it_;  // the scanning thread's
  Prepare prepare_;                        // the scanning thread's
  EnvelopeDecoder scanning_decoder_;       // the scanning thread's; opens nothing
  PayloadOpener scanning_opener_;          // the scanning thread's
  unsigned share_;                         // the scanning thread's: the next batch's share
  bool waited_ = false;                    // the scanning thread's: for the batch it fills

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> full_;   // GUARDED_BY(mutex_)
  std::vector<std::unique_ptr<Batch>> free_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                     // GUARDED_BY(mutex_)

  std::unique_ptr<Batch> current_;  // the caller's
  std::size_t position_ = 0;        // the next entry of current_ to hand out
  PayloadOpener opener_;            // the caller's
  Prepared nothing_{};              // the caller's: what an unprepared entry comes with

  std::thread thread_;  // last: starts once everything above exists
};

// Entries with nothing prepared beyond their decoding: the scanning thread reads and decodes,
// and the two threads share the opening of sealed payloads.
class LogScan {
 public:
  LogScan(const Reader& reader, std::uint64_t from) : scan_(reader, from) {}

  // The next entry in seq order, valid until the following call; nullptr after the last.
  // Throws as BasicLogScan::next.
  const EnvelopeView* next() {
    auto item = scan_.next();
    return item ? &item->entry : nullptr;
  }

 private:
  struct Nothing {};
  BasicLogScan<Nothing> scan_;
};

template <typename Prepared>
BasicLogScan<Prepared>::BasicLogScan(const Reader& reader, std::uint64_t from, Prepare prepare)
    : it_(reader.scan(Family::kLog)),
      prepare_(std::move(prepare)),
      scanning_opener_(reader.database().key_store()),
      share_(prepare_ ? kOpeningSlices : kOpeningSlices / 2),
      opener_(reader.database().key_store()) {
  for (std::size_t i = 0; i < kLogBatches; ++i) {
    auto batch = std::make_unique<Batch>();
    batch->words.resize(kLogBatchBytes / sizeof(std::uint64_t));
    free_.push_back(std::move(batch));
  }
  thread_ = std::thread([this, from] { scan(from); });
}

template <typename Prepared>
BasicLogScan<Prepared>::~BasicLogScan() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

template <typename Prepared>
auto BasicLogScan<Prepared>::next() -> std::optional<Item> {
  while (!current_ || position_ == current_->entries.size()) {
    if (current_) {
      if (auto error = std::exchange(current_->error, nullptr)) std::rethrow_exception(error);
      if (current_->last) return std::nullopt;
      {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(current_));
      }
      changed_.notify_all();
    }
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !full_.empty(); });
    current_ = std::move(full_.front());
    full_.pop_front();
    position_ = 0;
  }
  const auto i = position_++;
  if (prepare_) return Item{current_->views[i], current_->prepared[i]};
  auto& view = current_->views[i];
  if (stored_sealed(view.customer, view.payload) && opening_slice(view.customer) >= current_->share) {
    if (current_->has_key[i]) {
      opener_.keep_key(view.customer, current_->keys[i]);
      OPENSSL_cleanse(&current_->keys[i], sizeof(DataKey));
    }
    try {
      view.payload = opener_.open(view.seq, view.customer, view.payload);
    } catch (...) {
      // Nothing after the entry that does not open is handed out, as when the scanning
      // thread stops at one.
      position_ = current_->entries.size();
      current_->error = nullptr;
      current_->last = true;
      throw;
    }
  }
  return Item{view, nothing_};
}

template <typename Prepared>
bool BasicLogScan<Prepared>::add(Batch& batch, std::string_view bytes, std::uint64_t seq) {
  const std::size_t words = (bytes.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
  if (batch.used + words > batch.words.size()) {
    if (!batch.entries.empty()) return false;
    batch.words.resize(words);  // one entry larger than a batch
  }
  std::memcpy(batch.words.data() + batch.used, bytes.data(), bytes.size());
  batch.entries.push_back({seq, batch.used, bytes.size()});
  batch.used += words;
  return true;
}

template <typename Prepared>
void BasicLogScan<Prepared>::prepare(Batch& batch) {
  batch.views.reserve(batch.entries.size());
  if (prepare_) batch.prepared.resize(batch.entries.size());
  batch.share = share_;
  if (batch.share < kOpeningSlices) {
    batch.keys.resize(batch.entries.size());
    batch.has_key.assign(batch.entries.size(), 0);
  }
  // An opened payload is shorter than its entry: all of them fit without moving.
  batch.opened.resize(batch.used + batch.entries.size());
  std::size_t opened = 0;
  for (std::size_t i = 0; i < batch.entries.size(); ++i) {
    const auto& entry = batch.entries[i];
    try {
      // Decoded in place: the batch's bytes are word-aligned and live as long as the view.
      batch.views.push_back(scanning_decoder_.decode(batch.bytes(entry), entry.seq));
      auto& view = batch.views.back();
      const bool sealed = stored_sealed(view.customer, view.payload);  // else nothing to open
      if (sealed && opening_slice(view.customer) < batch.share) {
        // Opened into the opener's buffer, which the next entry reuses: kept with the batch.
        const auto payload = scanning_opener_.open(view.seq, view.customer, view.payload);
        auto* out = reinterpret_cast<char*>(batch.opened.data() + opened);
        std::memcpy(out, payload.data(), payload.size());
        view.payload = {out, payload.size()};
        opened += (payload.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
      } else if (const auto* key = sealed ? scanning_opener_.find_key(view.customer) : nullptr) {
        batch.keys[i] = *key;
        batch.has_key[i] = 1;
      }
      if (prepare_) prepare_(view, batch.prepared[i]);
    } catch (...) {
      // The entries before it still go to the caller; this one and the rest do not.
      batch.entries.resize(i);
      batch.views.resize(i);
      batch.error = std::current_exception();
      batch.last = true;
      return;
    }
  }
}

template <typename Prepared>
auto BasicLogScan<Prepared>::take_free() -> std::unique_ptr<Batch> {
  std::unique_lock lock(mutex_);
  waited_ = free_.empty();
  changed_.wait(lock, [&] { return stopping_ || !free_.empty(); });
  if (stopping_) return nullptr;
  auto batch = std::move(free_.back());
  free_.pop_back();
  batch->used = 0;
  batch->wipe_keys();
  batch->entries.clear();
  batch->views.clear();
  batch->prepared.clear();
  batch->error = nullptr;
  batch->last = false;
  return batch;
}

template <typename Prepared>
void BasicLogScan<Prepared>::give(std::unique_ptr<Batch> batch) {
  std::size_t full = 0;
  {
    std::lock_guard lock(mutex_);
    full = full_.size();
    full_.push_back(std::move(batch));
  }
  changed_.notify_all();
  balance(std::exchange(waited_, false), full);
}

template <typename Prepared>
void BasicLogScan<Prepared>::balance(bool waited, std::size_t full) {
  if (prepare_) return;  // `prepare` sees opened payloads: all are opened here
  constexpr unsigned kStep = 2;
  if (waited && full > 0) share_ = std::min(share_ + kStep, kOpeningSlices);
  if (!waited && full == 0) share_ = share_ >= kStep ? share_ - kStep : 0;
}

template <typename Prepared>
void BasicLogScan<Prepared>::scan(std::uint64_t from) {
  auto batch = take_free();
  if (!batch) return;
  try {
    for (it_->Seek(u64_key(from)); it_->Valid(); it_->Next()) {
      const auto key = it_->key();
      if (key.size() != 8) throw CorruptionError("a log key is not 8 bytes");
      const auto seq = get_u64(std::string_view(key.data(), key.size()));
      const std::string_view value(it_->value().data(), it_->value().size());
      if (add(*batch, value, seq)) continue;
      prepare(*batch);
      if (batch->last) return give(std::move(batch));
      give(std::move(batch));
      if (!(batch = take_free())) return;
      add(*batch, value, seq);
    }
    Database::check(it_->status(), "scanning the log");
  } catch (...) {
    if (!batch) return;  // stopping while it waited for a batch
    prepare(*batch);
    if (!batch->last) batch->error = std::current_exception();
    batch->last = true;
    return give(std::move(batch));
  }
  prepare(*batch);
  batch->last = true;
  give(std::move(batch));
}

}  // namespace ledger::eventstore
