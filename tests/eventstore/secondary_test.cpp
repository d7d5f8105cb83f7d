// A secondary instance (how ledger-audit reads a directory ledgerd is writing) must show the
// primary as it was at one moment: every atomic batch in every column family, or in none.
#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

// Keys present in `family` of `database`, as seqs.
std::set<std::uint64_t> keys_in(Database& database, Family family) {
  std::set<std::uint64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(rocksdb::ReadOptions(), database.family(family)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.insert(get_u64(std::string_view(it->key().data(), it->key().size())));
  REQUIRE(it->status().ok());
  return out;
}

}  // namespace

TEST_CASE("a secondary opened while the primary flushes family by family sees each batch whole", "[eventstore]") {
  ledger::testing::TempDir dir;
  const auto data = dir.path() / "data";
  auto primary = Database::open(data, OpenOptions{});
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  // Each batch puts the same key into two families; the primary flushes them one at a time, the
  // way the erasure pass does, and each flush ends a WAL file that RocksDB then deletes.
  std::thread writer([&] {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    for (std::uint64_t seq = 1; !stop; ++seq) {
      rocksdb::WriteBatch batch;
      batch.Put(primary->family(Family::kLog), u64_key(seq), std::string(64, 'x'));
      batch.Put(primary->family(Family::kStreams), u64_key(seq), "");
      if (!primary->db().Write(sync, &batch).ok()) return;
      written = seq;
      if (seq % 200 == 0) {
        for (auto family : {Family::kLog, Family::kStreams}) {
          if (!primary->db().Flush(rocksdb::FlushOptions(), primary->family(family)).ok()) return;
        }
      }
    }
  });
  while (written < 100) std::this_thread::yield();

  int torn = 0;
  std::string error;
  try {
    for (int round = 0; round < 60; ++round) {
      ledger::testing::TempDir scratch;
      OpenOptions options;
      options.secondary_path = scratch.path();
      auto view = Database::open(data, options);
      if (keys_in(*view, Family::kLog) != keys_in(*view, Family::kStreams)) ++torn;
      view->catch_up();
      if (keys_in(*view, Family::kLog) != keys_in(*view, Family::kStreams)) ++torn;
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  stop = true;
  writer.join();
  CHECK(error == "");
  CHECK(torn == 0);
}
