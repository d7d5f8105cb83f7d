// A secondary instance (how ledger-audit reads a directory ledgerd is writing) must show the
// primary as it was at one moment: every atomic batch in every column family, or in none.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/reader.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

// Keys present in `family` of `database`, as seqs.
std::set<std::uint64_t> keys_in(Database& database, Family family) {
  std::set<std::uint64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(iterate_options(), database.family(family)));
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
  std::atomic<std::chrono::milliseconds> open_time{std::chrono::milliseconds(30)};
  // Each batch puts the same key into two families. In bursts, as an erasure pass does, the
  // primary flushes them one at a time, and each pair of flushes makes a WAL file obsolete,
  // which RocksDB deletes; a compaction then merges the small files. Between bursts it only
  // writes, as when no memtable is full.
  std::thread writer([&] {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    std::uint64_t seq = 0;
    auto write = [&] {
      rocksdb::WriteBatch batch;
      ++seq;
      batch.Put(primary->family(Family::kLog), u64_key(seq), std::string(64, 'x'));
      batch.Put(primary->family(Family::kStreams), u64_key(seq), "");
      if (!primary->db().Write(sync, &batch).ok()) return false;
      written = seq;
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // a busy ledgerd's pace, not a spin
      return true;
    };
    while (!stop) {
      for (int pair = 0; pair < 8; ++pair) {
        for (int i = 0; i < 3; ++i) {
          if (!write()) return;
        }
        for (auto family : {Family::kLog, Family::kStreams}) {
          if (!primary->db().Flush(rocksdb::FlushOptions(), primary->family(family)).ok()) return;
        }
      }
      rocksdb::CompactRangeOptions merge;
      merge.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      for (auto family : {Family::kLog, Family::kStreams}) {
        if (!primary->db().CompactRange(merge, primary->family(family), nullptr, nullptr).ok()) {
          return;
        }
      }
      // Long enough for a few opens (slower under the sanitizers), short enough for many bursts.
      const auto quiet_until = std::chrono::steady_clock::now() + std::max(std::chrono::milliseconds(100), 3 * open_time.load());
      while (!stop && std::chrono::steady_clock::now() < quiet_until) {
        if (!write()) return;
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
      const auto started = std::chrono::steady_clock::now();
      auto view = Database::open(data, options);
      open_time = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
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
