// A data directory written by ledger 0.1.0 (keys in a `keys` family, free-number rows keyed by
// their first number, a `search` family, plaintext values) is brought to the current layout by
// the first writable open, also when a crash cuts that open off at any step of the migration;
// until then read-only opens refuse it, saying what to do (docs/storage.md, "Migrating a 0.1.0
// directory").
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"
#include "projections/free_numbers.h"
#include "projections/verify.h"
#include "server/crash_injection.h"
#include "support/layout_0_1_0.h"
#include "support/ledger_fixture.h"

extern char** environ;

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::has_family;
using ledger::testing::Ledger;

namespace {

using Intervals = std::vector<projections::NumberInterval>;

// What a user of the ledger sees, and the keys its digests need.
struct Seen {
  std::vector<std::optional<domain::Customer>> customers;  // numbers 1-10
  std::vector<std::size_t> history_sizes;
  Intervals free;
  std::vector<std::optional<eventstore::StreamKey>> keys;  // ids 1-5
};

Seen seen(Ledger& ledger) {
  Seen out;
  for (domain::CustomerNumber n = 1; n <= 10; ++n) {
    out.customers.push_back(ledger.service().customer(n));
    out.history_sizes.push_back(out.customers.back() ? ledger.service().history(n).size() : 0);
  }
  const eventstore::DatabaseReader reader(ledger.database());
  out.free = projections::FreeNumbers::all(reader);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    auto keys = ledger.database().key_store().get(id);
    out.keys.push_back(keys ? std::optional(keys->hmac) : std::nullopt);
  }
  return out;
}

// Ada (1), Bo (2, deleted), Cy (3, purged), Di (number 10, edited), Ed (taking 3 again):
// free are 4-9 and 11 on.
Seen fill(Ledger& ledger) {
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  ledger.create("Di", 10);
  accepted(ledger.service().execute(domain::EditCustomer{10, {{domain::Field::kEmail, "di@example.org"}}, {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{3}}));
  const auto purge = accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));
  REQUIRE(ledger.service().wait_for_erasure(purge.seqs.front(), std::chrono::seconds(60)));
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  ledger.create("Ed");
  auto before = seen(ledger);
  REQUIRE(before.free == Intervals{{4, 9}, {11, domain::kMaxCustomerNumber}});
  REQUIRE_FALSE(before.keys[2]);  // Cy's, destroyed by the purge
  return before;
}

std::unique_ptr<eventstore::Database> open_read_only(const std::filesystem::path& data) {
  eventstore::OpenOptions options;
  options.create_if_missing = false;
  options.read_only = true;
  return eventstore::Database::open(data, options);
}

// An auditor's read-only open reads `data` and finds the ledger sound.
void check_verifies_read_only(const std::filesystem::path& data) {
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(*open_read_only(data)));
  INFO(report.problem);
  CHECK(report.ok);
}

// The values RocksDB holds in plaintext where the ledger stores them sealed, old versions
// included (memtables and every live file).
std::size_t plaintext_versions(eventstore::Database& db) {
  std::size_t found = 0;
  const auto head = eventstore::load_head(eventstore::DatabaseReader(db));
  for (std::uint64_t seq = 1; seq < head.next_seq; ++seq) {
    for (const auto& value : eventstore::stored_versions(db, eventstore::Family::kLog, eventstore::u64_key(seq))) {
      const auto entry = eventstore::decode_envelope(value, seq);
      found += eventstore::stored_sealed(entry.customer, entry.payload) && !eventstore::is_sealed(entry.payload);
    }
  }
  for (std::uint64_t id = 1; id <= 5; ++id) {
    for (const auto& value : eventstore::stored_versions(db, eventstore::Family::kCustomers, eventstore::u64_key(id))) {
      found += !eventstore::is_sealed(value);
    }
  }
  return found;
}

// Everything the ledger showed before it was rewritten in the 0.1.0 layout, in the current one,
// and no plaintext left in any version of any value.
void check_migrated(Ledger& ledger, const Seen& before) {
  const auto data = ledger.dir() / "data";
  CHECK_FALSE(has_family(data, "keys"));
  CHECK_FALSE(has_family(data, "search"));
  CHECK(plaintext_versions(ledger.database()) == 0);
  const auto after = seen(ledger);
  CHECK(after.customers == before.customers);
  CHECK(after.history_sizes == before.history_sizes);
  CHECK(after.free == before.free);
  CHECK(after.keys == before.keys);
  {
    const auto report = projections::verify_ledger(eventstore::DatabaseReader(ledger.database()));
    INFO(report.problem);
    CHECK(report.ok);
  }
  CHECK(ledger.create("Fay").numbers == std::vector<domain::CustomerNumber>{4});
  ledger.close();
  // Read-only opens (the audit tools) read the migrated directory.
  check_verifies_read_only(data);
  ledger.open();
}

// Runs the child, which dies after `step` of the migration; returns its wait status.
int migrate_until_crash(const std::filesystem::path& data, const std::string& step) {
  std::string program = LAYOUT_MIGRATION_CHILD, dir = data.string(), name = step;
  std::vector<char*> argv = {program.data(), dir.data(), name.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("a directory of 0.1.0 is migrated by its first writable open, its customers, keys and free numbers intact",
          "[migration]") {
  Ledger ledger;
  const auto before = fill(ledger);
  ledger.close();
  const auto data = ledger.dir() / "data";
  testing::rewrite_in_layout_0_1_0(data);
  REQUIRE(has_family(data, "keys"));

  // An auditor is told what to do instead of reading a layout the code no longer knows.
  CHECK_THROWS_WITH(open_read_only(data), Catch::Contains("is in the layout of ledger 0.1.0") &&
                                              Catch::Contains("open it once for writing to migrate it"));

  ledger.open();
  check_migrated(ledger, before);
  // Nothing is left to migrate: the next open changes nothing.
  ledger.close();
  bool stepped = false;
  eventstore::OpenOptions watch;
  watch.migration.after_step = [&](eventstore::MigrationStep) { stepped = true; };
  eventstore::Database::open(data, watch);
  CHECK_FALSE(stepped);
  ledger.open();
}

TEST_CASE("a migration cut off by a crash after any of its steps is finished by the next open", "[migration]") {
  const auto step = GENERATE(as<std::string>{}, "keys_moved", "free_numbers_rewritten", "family_dropped", "values_sealed",
                             "plaintext_compacted");
  INFO("crash after " << step);
  Ledger ledger;
  const auto before = fill(ledger);
  ledger.close();
  const auto data = ledger.dir() / "data";
  testing::rewrite_in_layout_0_1_0(data);

  const int status = migrate_until_crash(data, step);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == server::kInjectedCrashExitStatus);
  // Cut off part-way: still not a directory to read.
  if (step == "values_sealed") {
    CHECK_THROWS_WITH(open_read_only(data), Catch::Contains("layout of ledger 0.1.0") &&
                                                Catch::Contains("values stored in plaintext"));
  } else if (step == "plaintext_compacted") {
    CHECK_THROWS_WITH(open_read_only(data), Catch::Contains("layout of ledger 0.1.0") &&
                                                Catch::Contains("may still be in its files"));
  } else {
    CHECK((has_family(data, "keys") || has_family(data, "search")));
    CHECK_THROWS_WITH(open_read_only(data), Catch::Contains("layout of ledger 0.1.0"));
  }

  ledger.open();
  check_migrated(ledger, before);
}

TEST_CASE("an empty family of the earlier layout is read as it is, and dropped by the next writable open",
          "[migration]") {
  Ledger ledger;
  const auto before = fill(ledger);
  ledger.close();
  const auto data = ledger.dir() / "data";
  // A directory in the current layout that still has an empty `keys` family, as builds that
  // created the family without writing it left their directories.
  testing::change_families(data, [](rocksdb::DB&, const testing::FamilyByName& family) { family("keys"); });
  REQUIRE(has_family(data, "keys"));

  // An auditor reads it: nothing in it needs migrating.
  check_verifies_read_only(data);
  ledger.open();
  CHECK_FALSE(has_family(data, "keys"));
  CHECK(seen(ledger).customers == before.customers);
}

TEST_CASE("a sealed directory without the mark is read as it is, and marked by the next writable open",
          "[migration]") {
  Ledger ledger;
  const auto before = fill(ledger);
  ledger.close();
  const auto data = ledger.dir() / "data";
  // As directories made before `values.sealed` existed: every value sealed, no mark.
  const auto mark = [&] {
    std::optional<std::string> value;
    testing::change_families(data, [&](rocksdb::DB& db, const testing::FamilyByName& family) {
      std::string stored;
      if (db.Get(rocksdb::ReadOptions(), family("meta"), "values.sealed", &stored).ok()) value = stored;
    });
    return value;
  };
  REQUIRE(mark() == "done");
  testing::change_families(data, [](rocksdb::DB& db, const testing::FamilyByName& family) {
    REQUIRE(db.Delete(rocksdb::WriteOptions(), family("meta"), "values.sealed").ok());
  });
  check_verifies_read_only(data);
  CHECK_FALSE(mark());
  ledger.open();
  CHECK(seen(ledger).customers == before.customers);
  ledger.close();
  CHECK(mark() == "done");
  ledger.open();
}
