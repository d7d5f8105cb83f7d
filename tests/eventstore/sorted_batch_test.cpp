// sorted_batch: reordering a group's batch by key must leave the database exactly as the batch
// in its own order would.
#include <random>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "eventstore/reader.h"
#include "eventstore/sorted_batch.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

std::vector<std::tuple<std::string, std::string, std::string>> contents(Database& db) {
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  for (auto* family : db.all_families()) {
    std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(iterate_options(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) rows.emplace_back(family->GetName(), it->key().ToString(), it->value().ToString());
  }
  return rows;
}

}  // namespace

TEST_CASE("a batch in key order leaves the database as the batch in its own order does", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto ordered = Database::open(dir.path() / "ordered", {});
  auto sorted = Database::open(dir.path() / "sorted", {});
  std::mt19937 random(11);
  for (int round = 0; round < 20; ++round) {
    // Puts and deletes of few keys in several families, so that keys repeat within a batch.
    rocksdb::WriteBatch batch;
    for (int i = 0; i < 300; ++i) {
      const auto family = static_cast<Family>(random() % 4);
      const auto key = "k" + std::to_string(random() % 50);
      if (random() % 3 == 0) {
        REQUIRE(batch.Delete(ordered->family(family), key).ok());
      } else {
        REQUIRE(batch.Put(ordered->family(family), key, "v" + std::to_string(round) + "." + std::to_string(i)).ok());
      }
    }
    auto reordered = sorted_batch(*sorted, batch);
    REQUIRE(reordered);
    CHECK(reordered->Count() < batch.Count());  // one write per key is left
    REQUIRE(ordered->db().Write(rocksdb::WriteOptions(), &batch).ok());
    REQUIRE(sorted->db().Write(rocksdb::WriteOptions(), &*reordered).ok());
    REQUIRE(contents(*ordered) == contents(*sorted));
  }
  CHECK_FALSE(contents(*sorted).empty());
}

TEST_CASE("a batch with a range deletion is not reordered", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  rocksdb::WriteBatch batch;
  REQUIRE(batch.Put(db->family(Family::kMeta), "b", "1").ok());
  REQUIRE(batch.DeleteRange(db->family(Family::kMeta), "a", "c").ok());
  CHECK_FALSE(sorted_batch(*db, batch));
}
