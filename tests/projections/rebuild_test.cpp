// rebuild_projections writes what the commands wrote, row for row; a rebuild cut off between
// removing the old rows and loading the new ones is finished by the next open for writing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <utility>
#include <vector>

#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/sealing.h"
#include "projections/customer_codec.h"
#include "projections/projection_rows.h"
#include "projections/projector.h"
#include "projections/rebuild.h"
#include "projections/replay.h"
#include "projections/search_index.h"
#include "projections/verify.h"
#include "support/forgery.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using eventstore::Family;
using ledger::testing::accepted;
using ledger::testing::fill_with_purge;
using ledger::testing::Ledger;
using ledger::testing::person;
using ledger::testing::put_raw;

namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// The marker key is part of the on-disk format (docs/storage.md).
const std::string kMarker = "projections.rebuilding";
const std::string kStaging = "rebuild.staging";

// A family's rows; the customers' states opened (every sealing of a state differs: fresh nonce),
// after checking that each is stored sealed.
Rows rows_of(eventstore::Database& db, Family family) {
  Rows rows;
  auto it = eventstore::DatabaseReader(db).iterate(family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto value = it->value().ToString();
    if (family == Family::kCustomers) {
      CHECK(eventstore::is_sealed(value));
      const auto id = eventstore::get_u64(it->key().ToString());
      value = projections::encode_customer(projections::read_customer(db.key_store(), value, id));
    }
    rows.emplace_back(it->key().ToString(), value);
  }
  REQUIRE(it->status().ok());
  return rows;
}

std::vector<Rows> projection_contents(eventstore::Database& db) {
  std::vector<Rows> all;
  for (auto family : projections::kProjectionFamilies) all.push_back(rows_of(db, family));
  return all;
}

projections::VerifyReport verify(eventstore::Database& db) {
  return projections::verify_ledger(eventstore::DatabaseReader(db));
}

// fill_with_purge, plus customers with every searchable field, one of them deleted and one
// undeleted, so that every projection family has rows.
void fill_varied(Ledger& ledger) {
  fill_with_purge(ledger);
  accepted(ledger.service().execute(domain::CreateCustomer{person("Fay Day", "fay@example.org", "+44 20 7946 0000"), {}}));
  accepted(ledger.service().execute(domain::CreateCustomer{person("Gus", "gus@example.net", "(555) 010-9999"), 40}));
  accepted(ledger.service().execute(domain::CreateCustomer{person("Hal", "", "555.010.1234"), {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{40}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));
  accepted(ledger.service().execute(domain::UndeleteCustomers{{1}}));
}

}  // namespace

TEST_CASE("rebuild writes exactly the rows the commands wrote, and verify passes", "[rebuild]") {
  Ledger ledger;
  fill_varied(ledger);
  const auto written = projection_contents(ledger.database());
  for (const auto& rows : written) REQUIRE_FALSE(rows.empty());
  // A row no customer has, which the rebuild must drop.
  put_raw(ledger.database(), Family::kActive, eventstore::u64_key(999), eventstore::u64_key(7));
  REQUIRE_FALSE(verify(ledger.database()).ok);
  ledger.close();

  auto db = eventstore::Database::open(ledger.dir() / "data", {});
  const auto head = eventstore::load_head(eventstore::DatabaseReader(*db));
  CHECK(projections::rebuild_projections(*db) == head.next_seq - 1);
  CHECK(projection_contents(*db) == written);
  auto report = verify(*db);
  INFO(report.problem);
  CHECK(report.ok);
  CHECK_FALSE(projections::rebuild_interrupted(eventstore::DatabaseReader(*db)));
  CHECK_FALSE(std::filesystem::exists(db->dir() / kStaging));

  // A second rebuild over ingested rows gives the same rows again.
  projections::rebuild_projections(*db);
  CHECK(projection_contents(*db) == written);
}

TEST_CASE("a rebuild cut off after removing the old rows is finished by the next open", "[rebuild]") {
  Ledger ledger;
  fill_varied(ledger);
  const auto written = projection_contents(ledger.database());
  ledger.close();
  {
    // What a crash between removing the old rows and loading the new ones leaves: the marker,
    // some families emptied, and SST files in the staging directory.
    auto db = eventstore::Database::open(ledger.dir() / "data", {});
    rocksdb::WriteBatch cut;
    REQUIRE(cut.Put(db->family(Family::kMeta), kMarker, {}).ok());
    for (auto family : {Family::kCustomers, Family::kActive}) {
      REQUIRE(cut.DeleteRange(db->family(family), std::string(8, '\0'), std::string(16, '\xff')).ok());
    }
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), &cut).ok());
    std::filesystem::create_directories(db->dir() / kStaging);
    std::ofstream(db->dir() / kStaging / "active-0.sst") << "half written";
    REQUIRE(rows_of(*db, Family::kCustomers).empty());

    auto report = verify(*db);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("rebuild was cut off"));
  }

  ledger.open();
  CHECK(ledger.service().customer(2)->fields.name == "Bo");
  CHECK(projection_contents(ledger.database()) == written);
  CHECK_FALSE(projections::rebuild_interrupted(eventstore::DatabaseReader(ledger.database())));
  CHECK_FALSE(std::filesystem::exists(ledger.database().dir() / kStaging));
  auto report = verify(ledger.database());
  INFO(report.problem);
  CHECK(report.ok);
  // The writer carries on from the rebuilt free numbers: 1-5 and 40 are held.
  CHECK(ledger.create("Ivy").numbers == std::vector<domain::CustomerNumber>{6});
}

TEST_CASE("an open removes the files of a rebuild cut off before it removed anything", "[rebuild]") {
  Ledger ledger;
  fill_with_purge(ledger);
  const auto staging = ledger.dir() / "data" / kStaging;
  ledger.close();
  std::filesystem::create_directories(staging);
  std::ofstream(staging / "customers-0.sst") << "written before the crash";

  ledger.open();
  CHECK_FALSE(std::filesystem::exists(staging));
  CHECK(verify(ledger.database()).ok);
}

TEST_CASE("replay refuses an entry naming a customer id no earlier entry could have created", "[rebuild]") {
  Ledger ledger;
  fill_with_purge(ledger);
  eventstore::DatabaseReader reader(ledger.database());
  auto entry = *eventstore::read_entry(reader, 1);
  auto created = std::get<domain::CustomerCreated>(*domain::decode_event(entry.payload));
  created.id = std::uint64_t{1} << 40;
  entry.payload = domain::encode_event(created);
  testing::put_entry(ledger.database(), entry);
  // Refused before the table of customers by id grows to the id (8 TiB of slots).
  CHECK_THROWS_WITH(projections::replay_log(reader), Catch::Contains("log entry 1 names customer id 1099511627776"));
}
