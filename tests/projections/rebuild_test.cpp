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
#include "projections/projection_rows.h"
#include "projections/projector.h"
#include "projections/replay.h"
#include "projections/search_index.h"
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

Rows rows_of(eventstore::Database& db, Family family) {
  Rows rows;
  auto it = eventstore::DatabaseReader(db).iterate(family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) rows.emplace_back(it->key().ToString(), it->value().ToString());
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
  put_raw(ledger.database(), Family::kSearch, eventstore::u64_pair_key(7, 999).substr(6), {});
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
    for (auto family : {Family::kCustomers, Family::kSearch}) {
      REQUIRE(cut.DeleteRange(db->family(family), std::string(8, '\0'), std::string(16, '\xff')).ok());
    }
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), &cut).ok());
    std::filesystem::create_directories(db->dir() / kStaging);
    std::ofstream(db->dir() / kStaging / "search-0.sst") << "half written";
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

TEST_CASE("search rows come out ascending and complete however many passes produce them", "[rebuild]") {
  Ledger ledger;
  fill_varied(ledger);
  const auto replayed = projections::replay_log(eventstore::DatabaseReader(ledger.database()));
  std::set<std::string> every;
  for (const auto& [id, c] : replayed.customers) {
    for (auto bucket : projections::search_buckets(c.fields)) every.insert(projections::search_row(bucket, id));
  }
  REQUIRE(every.size() > 20);

  for (std::size_t per_pass : {std::size_t{1}, std::size_t{7}, every.size(), std::size_t{1} << 22}) {
    INFO("rows per pass: " << per_pass);
    std::vector<std::string> rows;
    projections::RowOptions options;
    options.search_rows_per_pass = per_pass;
    projections::projection_rows(
        replayed, Family::kSearch, [&](std::string_view key, std::string_view) { rows.emplace_back(key); }, options);
    CHECK(rows == std::vector<std::string>(every.begin(), every.end()));
  }
}

TEST_CASE("the two halves of the search rows that the rebuild writes side by side make up the whole", "[rebuild]") {
  Ledger ledger;
  fill_varied(ledger);
  const auto replayed = projections::replay_log(eventstore::DatabaseReader(ledger.database()));
  std::vector<std::string> whole, halves;
  projections::projection_rows(replayed, Family::kSearch,
                               [&](std::string_view key, std::string_view) { whole.emplace_back(key); });
  const projections::SearchFamilyRows search(replayed);
  const auto middle = search.middle();
  std::size_t lower = 0;
  search.rows(0, middle, 5, [&](std::string_view key, std::string_view) { halves.emplace_back(key), ++lower; });
  search.rows(middle, projections::kSearchBuckets, 5,
              [&](std::string_view key, std::string_view) { halves.emplace_back(key); });
  CHECK(halves == whole);
  // Split by rows, not by buckets: neither half is empty, and neither holds most of the rows.
  CHECK(lower * 4 >= whole.size());
  CHECK((whole.size() - lower) * 4 >= whole.size());
}

TEST_CASE("search buckets are part of the storage format: lowercase ASCII trigrams, FNV-1a, 4,096 buckets", "[rebuild]") {
  domain::CustomerFields fields;
  fields.name = "ABcD";
  // FNV-1a 32-bit of "abc" and "bcd", modulo 4,096.
  CHECK(projections::search_buckets(fields) == std::vector<std::uint16_t>{1826, 2315});
  fields.name = "abcd";
  CHECK(projections::search_buckets(fields) == std::vector<std::uint16_t>{1826, 2315});
}

TEST_CASE("replay refuses an entry naming a customer id no earlier entry could have created", "[rebuild]") {
  Ledger ledger;
  fill_with_purge(ledger);
  eventstore::DatabaseReader reader(ledger.database());
  auto entry = *eventstore::read_entry(reader, 1);
  auto created = std::get<domain::CustomerCreated>(*domain::decode_event(entry.payload));
  created.id = std::uint64_t{1} << 40;
  entry.payload = domain::encode_event(created);
  put_raw(ledger.database(), Family::kLog, eventstore::u64_key(1), eventstore::encode_envelope(entry));
  // Refused before the table of customers by id grows to the id (8 TiB of slots).
  CHECK_THROWS_WITH(projections::replay_log(reader), Catch::Contains("log entry 1 names customer id 1099511627776"));
}
