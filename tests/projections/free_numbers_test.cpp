// FreeNumbers keeps the free customer numbers as intervals: taking and freeing numbers in any
// order leaves exactly the numbers nobody holds, the lowest first; a directory written with the
// earlier layout (rows keyed by their first number) is rewritten on open and loses nothing.
#include <random>
#include <set>

#include <catch2/catch.hpp>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "eventstore/encoding.h"
#include "eventstore/reader.h"
#include "projections/free_numbers.h"
#include "projections/verify.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::Ledger;

namespace {

// Applies `change` through FreeNumbers and writes it.
template <typename Change>
void write(eventstore::Database& database, Change change, projections::LowestFreeInterval* lowest = nullptr) {
  eventstore::PendingBatch batch(database);
  eventstore::OverlayReader overlay(database, batch);
  projections::FreeNumbers numbers(overlay, batch, lowest);
  change(numbers);
  REQUIRE(database.db().Write(rocksdb::WriteOptions(), batch.GetWriteBatch()).ok());
}

// The intervals a model set of held numbers leaves free.
std::vector<projections::NumberInterval> free_intervals(const std::set<domain::CustomerNumber>& held) {
  return projections::complement({held.begin(), held.end()});
}

}  // namespace

TEST_CASE("taking and freeing numbers in any order leaves exactly the unheld ones free", "[free-numbers]") {
  Ledger ledger;  // a new ledger: every number free
  auto& database = ledger.database();
  std::set<domain::CustomerNumber> held;
  std::mt19937_64 random(7);
  for (int round = 0; round < 2000; ++round) {
    const domain::CustomerNumber number = 1 + random() % 60;
    const bool take = random() % 3 != 0;
    write(database, [&](projections::FreeNumbers& numbers) {
      if (take && !held.contains(number)) {
        REQUIRE(numbers.is_free(number));
        numbers.take(number);
        held.insert(number);
      } else if (!take && held.contains(number)) {
        REQUIRE_FALSE(numbers.is_free(number));
        numbers.release(number);
        held.erase(number);
      }
    });
    eventstore::DatabaseReader reader(database);
    INFO("round " << round);
    REQUIRE(projections::FreeNumbers::all(reader) == free_intervals(held));
    rocksdb::WriteBatch unused;
    domain::CustomerNumber lowest = 1;
    while (held.contains(lowest)) ++lowest;
    REQUIRE(projections::FreeNumbers(reader, unused).lowest() == lowest);
  }
}

TEST_CASE("the lowest free interval a writer remembers stays what the rows hold", "[free-numbers]") {
  Ledger ledger;
  auto& database = ledger.database();
  std::set<domain::CustomerNumber> held;
  projections::LowestFreeInterval remembered;
  std::mt19937_64 random(11);
  for (int round = 0; round < 2000; ++round) {
    const auto choice = random() % 4;
    const domain::CustomerNumber number = 1 + random() % 40;
    write(
        database,
        [&](projections::FreeNumbers& numbers) {
          if (choice <= 1) {  // a create without a number, the common case
            const auto lowest = *numbers.lowest();
            numbers.take(lowest);
            held.insert(lowest);
          } else if (choice == 2 && !held.contains(number)) {
            numbers.take(number);
            held.insert(number);
          } else if (choice == 3 && held.contains(number)) {
            numbers.release(number);
            held.erase(number);
          }
        },
        &remembered);
    eventstore::DatabaseReader reader(database);
    INFO("round " << round);
    const auto rows = projections::FreeNumbers::all(reader);
    REQUIRE(rows == free_intervals(held));
    if (remembered) REQUIRE(*remembered == rows.front());
  }
}

TEST_CASE("taking the lowest number again and again overwrites one row", "[free-numbers]") {
  Ledger ledger;
  auto& database = ledger.database();
  for (int i = 0; i < 100; ++i) {
    write(database, [](projections::FreeNumbers& numbers) { numbers.take(*numbers.lowest()); });
  }
  eventstore::DatabaseReader reader(database);
  CHECK(projections::FreeNumbers::all(reader) == std::vector<projections::NumberInterval>{{101, domain::kMaxCustomerNumber}});
  // No tombstone per create: the family holds one live key and no deletions.
  std::uint64_t deletes = 0;
  REQUIRE(database.db().GetIntProperty(database.family(eventstore::Family::kNumbersFree), "rocksdb.num-deletes-active-mem-table",
                                       &deletes));
  CHECK(deletes == 0);
}

TEST_CASE("filling the gaps between held numbers seeks past the intervals used up, not over them", "[free-numbers]") {
  // An import whose numbered rows leave one-number gaps, which the rows without a number then
  // fill: each gap used up deletes its row. Finding the next lowest from the family's start
  // would step over every deleted row again, N * N / 2 of them in all.
  Ledger ledger;
  auto& database = ledger.database();
  constexpr domain::CustomerNumber kGaps = 400;
  projections::LowestFreeInterval remembered;
  write(
      database,
      [&](projections::FreeNumbers& numbers) {
        for (domain::CustomerNumber n = 2; n <= 2 * kGaps; n += 2) numbers.take(n);
      },
      &remembered);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  for (domain::CustomerNumber gap = 1; gap < 2 * kGaps; gap += 2) {
    write(
        database,
        [&](projections::FreeNumbers& numbers) {
          REQUIRE(numbers.lowest() == gap);
          numbers.take(gap);
        },
        &remembered);
  }
  const auto skipped = rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  eventstore::DatabaseReader reader(database);
  CHECK(projections::FreeNumbers::all(reader) ==
        std::vector<projections::NumberInterval>{{2 * kGaps + 1, domain::kMaxCustomerNumber}});
  CHECK(remembered == projections::NumberInterval{2 * kGaps + 1, domain::kMaxCustomerNumber});
  INFO("deleted rows stepped over: " << skipped);
  CHECK(skipped < kGaps);
}

// The migration's free-number step alone (the whole 0.1.0 layout: tests/server/layout_migration_test.cpp).
TEST_CASE("a directory with free-number rows keyed by their first number is rewritten on open",
          "[free-numbers][migration]") {
  Ledger ledger;
  for (int i = 0; i < 5; ++i) ledger.create("C");
  ledger.close();
  {
    // Rewrite the rows as the earlier layout held them, and forget the layout marker.
    auto database = eventstore::Database::open(ledger.dir() / "data", {});
    eventstore::DatabaseReader reader(*database);
    const auto intervals = projections::FreeNumbers::all(reader);
    REQUIRE(intervals == std::vector<projections::NumberInterval>{{6, domain::kMaxCustomerNumber}});
    rocksdb::WriteBatch batch;
    auto* family = database->family(eventstore::Family::kNumbersFree);
    REQUIRE(batch.Delete(family, eventstore::u64_key(domain::kMaxCustomerNumber)).ok());
    REQUIRE(batch.Put(family, eventstore::u64_key(6), eventstore::u64_key(domain::kMaxCustomerNumber)).ok());
    REQUIRE(batch.Delete(database->family(eventstore::Family::kMeta), "numbers_free.by_last").ok());
    REQUIRE(database->db().Write(rocksdb::WriteOptions(), &batch).ok());
  }
  // An auditor is sent to open it for writing first.
  eventstore::OpenOptions read_only;
  read_only.read_only = true;
  CHECK_THROWS_WITH(eventstore::Database::open(ledger.dir() / "data", read_only),
                    Catch::Contains("free-number rows are keyed by their first number"));
  ledger.open();
  const auto created = ledger.create("D");
  CHECK(created.numbers == std::vector<domain::CustomerNumber>{6});
  eventstore::DatabaseReader reader(ledger.database());
  CHECK(projections::FreeNumbers::all(reader) == std::vector<projections::NumberInterval>{{7, domain::kMaxCustomerNumber}});
  CHECK(projections::verify_ledger(reader).ok);
}
