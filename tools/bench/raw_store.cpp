#include "tools/bench/raw_store.h"

#include <chrono>
#include <memory>
#include <thread>

#include <rocksdb/db.h>

#include "eventstore/reader.h"

namespace ledger::bench {

std::uint64_t scan_log(eventstore::Database& db, std::uint64_t& bytes) {
  // The same read options as the ledger's own scans (Reader::scan), so that both read alike.
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(eventstore::scan_options(), db.family(eventstore::Family::kLog)));
  std::uint64_t rows = 0;
  bytes = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    bytes += it->key().size() + it->value().size();
    ++rows;
  }
  eventstore::Database::check(it->status(), "scanning the log");
  return rows;
}

void wait_for_compactions(eventstore::Database& db) {
  // What the fill left in the WAL is replayed into the memtables at every open (the open does
  // not flush it); flushed, every timed pass reads the log from SST files.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  eventstore::Database::check(db.db().Flush(flush, db.all_families()), "flushing the filled ledger");
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::minutes(2);
  for (;;) {
    std::uint64_t running = 0;
    db.db().GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running);
    std::uint64_t flushes = 0;
    db.db().GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &flushes);
    bool pending = running != 0 || flushes != 0;
    for (auto* family : db.all_families()) {
      std::uint64_t owed = 0;
      if (db.db().GetIntProperty(family, rocksdb::DB::Properties::kCompactionPending, &owed) && owed != 0) pending = true;
    }
    if (!pending || Clock::now() > deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ledger::bench
