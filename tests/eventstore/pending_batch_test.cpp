// PendingBatch and OverlayReader: what the writer reads while it builds a group must be what the
// database holds once the group (and the one below it) is written, for point and ordered
// families alike, across save points rolled back and popped.
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "eventstore/pending_batch.h"
#include "eventstore/reader.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

using Model = std::map<std::pair<Family, std::string>, std::string>;

constexpr Family kFamilies[] = {Family::kCustomers, Family::kActive, Family::kDeleted, Family::kRequests,
                                Family::kNumbersFree, Family::kMeta};

// Random puts and deletes of a few keys into `batch`, mirrored in `model`; some commands are
// rolled back to a save point, as GroupBatch::add does with a command that fails.
void fill(Database& db, PendingBatch& batch, Model& model, std::mt19937& random, int commands) {
  for (int c = 0; c < commands; ++c) {
    const bool roll_back = random() % 4 == 0;
    Model before = model;
    batch.SetSavePoint();
    for (int w = 0; w < 3; ++w) {
      const auto family = kFamilies[random() % std::size(kFamilies)];
      const auto key = "k" + std::to_string(random() % 20);
      if (random() % 3 == 0) {
        REQUIRE(batch.Delete(db.family(family), key).ok());
        model.erase({family, key});
      } else {
        const auto value = "v" + std::to_string(c) + "." + std::to_string(w);
        REQUIRE(batch.Put(db.family(family), key, value).ok());
        model[{family, key}] = value;
      }
    }
    if (roll_back) {
      REQUIRE(batch.RollbackToSavePoint().ok());
      model = std::move(before);
    } else {
      REQUIRE(batch.PopSavePoint().ok());
    }
  }
}

std::optional<std::string> expected(const Model& model, Family family, const std::string& key) {
  const auto it = model.find({family, key});
  if (it == model.end()) return std::nullopt;
  return it->second;
}

// Every key read one at a time, and all of them at once (get_many) in a shuffled order with
// repeats and keys never written.
void require_reads(const Reader& reader, const Model& model) {
  std::mt19937 random(11);
  for (auto family : kFamilies) {
    std::vector<std::string> keys;
    for (int k = 0; k < 20; ++k) {
      const auto key = "k" + std::to_string(k);
      INFO(family_name(family) << " " << key);
      REQUIRE(reader.get(family, key) == expected(model, family, key));
      keys.push_back(key);
    }
    keys.push_back("k3");
    keys.push_back("never written");
    std::shuffle(keys.begin(), keys.end(), random);
    const auto many = reader.get_many(family, keys);
    REQUIRE(many.size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      INFO("get_many " << family_name(family) << " " << keys[i]);
      REQUIRE(many[i] == expected(model, family, keys[i]));
    }
  }
}

}  // namespace

TEST_CASE("a pending batch reads back its last writes and those of the batch below, as the database will hold them",
          "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path() / "db", {});
  std::mt19937 random(7);
  Model model;
  for (int round = 0; round < 10; ++round) {
    PendingBatch below(*db);
    fill(*db, below, model, random, 40);
    PendingBatch batch(*db);
    OverlayReader overlay(*db, batch, &below);
    fill(*db, batch, model, random, 40);
    require_reads(overlay, model);
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), below.GetWriteBatch()).ok());
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), batch.GetWriteBatch()).ok());
    // Some rows from files, some from memtables.
    if (round % 3 == 1) {
      for (auto family : kFamilies) REQUIRE(db->db().Flush(rocksdb::FlushOptions(), db->family(family)).ok());
    }
    require_reads(DatabaseReader(*db), model);
  }
}

TEST_CASE("iterating a point family through an overlay that holds its writes is refused, an ordered one is not",
          "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path() / "db", {});
  PendingBatch batch(*db);
  OverlayReader overlay(*db, batch);
  REQUIRE_NOTHROW(overlay.iterate(Family::kDeleted));
  REQUIRE(batch.Put(db->family(Family::kDeleted), "k", "v").ok());
  REQUIRE(batch.Put(db->family(Family::kNumbersFree), "n", "v").ok());
  REQUIRE_THROWS_AS(overlay.iterate(Family::kDeleted), std::logic_error);
  auto it = overlay.iterate(Family::kNumbersFree);
  it->SeekToFirst();
  REQUIRE(it->Valid());
  REQUIRE(it->key().ToString() == "n");
  // Rolled back, the write is gone and the family can be iterated again.
  PendingBatch other(*db);
  OverlayReader other_overlay(*db, other);
  other.SetSavePoint();
  REQUIRE(other.Put(db->family(Family::kActive), "k", "v").ok());
  REQUIRE(other.RollbackToSavePoint().ok());
  REQUIRE_FALSE(other_overlay.get(Family::kActive, "k").has_value());
  REQUIRE_NOTHROW(other_overlay.iterate(Family::kActive));
}
