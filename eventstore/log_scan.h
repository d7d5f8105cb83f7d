// LogScan: the log's entries read on a thread of its own, ahead of the caller, for the passes
// over the whole log (replay, verify, the auditor's as-of lists). RocksDB's reading and
// decompressing of blocks run on that thread while the caller works on the entries already
// read, so on two cores a pass that does about as much with each entry as RocksDB does to find
// it takes about as long as the scan alone.
//
// Opening the sealed payloads (a key lookup and AES-GCM, about 4 times RocksDB's reading of an
// entry) is shared between the two threads: the scanning thread opens the entries of a slice
// of the customers, the caller's thread the others as next() hands them out, and the slice
// follows which thread waited for the other, so a pass with more of its own work per entry
// leaves more of the opening to the scanning thread. Each thread opens with a PayloadOpener of
// its own; the scanning thread looks up every entry's key (one cursor through the key store)
// and hands the caller those it needs with the batch.
//
// A scan is used by one thread, the one that made it. The scanning thread uses only the RocksDB
// iterator made for it (Reader::scan, on the calling thread) and its own PayloadOpener (the key
// store is thread-safe), never the Reader, so the caller may keep reading through the Reader
// meanwhile.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <rocksdb/iterator.h>

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

class LogScan {
 public:
  // Starts reading the entries with seq >= from.
  LogScan(const Reader& reader, std::uint64_t from);
  // Stops the scanning thread and waits for it.
  ~LogScan();
  LogScan(const LogScan&) = delete;
  LogScan& operator=(const LogScan&) = delete;

  // The next entry in seq order, its payload opened, valid until the following call; nullptr
  // after the last. Throws in the place of the entry it concerns: CorruptionError naming the
  // seq of an unreadable entry or of a payload that does not open, StorageError when RocksDB
  // fails. After a throw, nullptr.
  const EnvelopeView* next();

  // How many of the kOpeningSlices slices of customers the scanning thread opened in the
  // batch handed out last. For tests.
  unsigned scanning_share() const;

 private:
  struct Batch;

  void scan(std::uint64_t from);
  // Copies `bytes` into `batch`; false when they do not fit and the batch holds entries.
  static bool add(Batch& batch, std::string_view bytes, std::uint64_t seq);
  // Decodes the batch's entries and opens the scanning thread's share of their payloads.
  void prepare(Batch& batch);
  // Moves the scanning thread's share of the opening toward the thread that waited: this one
  // for a free batch (`waited`), or the caller, which has caught up when a batch is handed
  // over with none queued (`full` == 0).
  void balance(bool waited, std::size_t full);
  std::unique_ptr<Batch> take_free();
  void give(std::unique_ptr<Batch> batch);

  std::unique_ptr<rocksdb::Iterator> it_;  // the scanning thread's
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

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace ledger::eventstore
