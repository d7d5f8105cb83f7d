// A purge whose stream index lost a row, as an operator with ledger-admin and ledger-audit sees
// it: the cleanup is refused and changes nothing, check names the row, rebuild repairs it, and
// the cleanup then erases the customer from what ledger-audit exports.
#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "support/ledger_fixture.h"
#include "support/run_tool.h"
#include "support/tool_runs.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::admin;
using ledger::testing::audit;
using ledger::testing::Ledger;
using ledger::testing::person;

TEST_CASE("cleanup with a stream index row removed by hand is refused, and erases everything after rebuild",
          "[admin][audit][purge]") {
  Ledger ledger;
  auto& service = ledger.service();
  const auto ada = accepted(service.execute(domain::CreateCustomer{person("Ada Lovelace", "ada@example.org"), {}}));
  ledger.create("Bo Keeper");
  accepted(service.execute(domain::EditCustomer{1, {{domain::Field::kPhone, "+44 20 7946 0000"}}, {}}));
  accepted(service.execute(domain::DeleteCustomers{{1}}));
  ledger.close();

  // What `ldb --column_family=streams delete` does, ledgerd stopped: the row of Ada's creation.
  {
    auto database = eventstore::Database::open(ledger.dir() / "data", {});
    const auto row = eventstore::u64_pair_key(ada.id, ada.seqs.front());
    REQUIRE(database->db().Delete(rocksdb::WriteOptions(), database->family(eventstore::Family::kStreams), row).ok());
  }

  auto refused = admin(ledger, "purge --yes");
  INFO(refused.output);
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("cleanup refused, nothing was purged") &&
                                 Catch::Contains("customer 1 ") && Catch::Contains("ledger-admin rebuild"));
  // Nothing happened: Ada is still on the deleted list, her creation still whole in the log.
  auto deleted = admin(ledger, "export --deleted --format jsonl");
  CHECK_THAT(deleted.stdout_text, Catch::Contains("Ada Lovelace"));
  auto purges = audit(ledger, "purges");
  CHECK_THAT(purges.output, !Catch::Contains("entries redacted"));
  CHECK_THAT(audit(ledger, "export").stdout_text, Catch::Contains("ada@example.org"));

  auto check = admin(ledger, "check");
  INFO(check.output);
  CHECK(check.status != 0);
  CHECK_THAT(check.output, Catch::Contains("streams row customer 1 seq 1 is missing"));

  auto rebuilt = admin(ledger, "rebuild");
  INFO(rebuilt.output);
  REQUIRE(rebuilt.status == 0);
  CHECK_THAT(rebuilt.output, Catch::Contains("stream index repaired from the log: 1 rows added, 0 removed"));

  auto purged = admin(ledger, "purge --yes");
  INFO(purged.output);
  REQUIRE(purged.status == 0);
  CHECK_THAT(purged.output, Catch::Contains("purged 1 customers") && Catch::Contains("\"verified\":true"));
  const auto exported = audit(ledger, "export");
  INFO(exported.output);
  REQUIRE(exported.status == 0);
  CHECK_THAT(exported.stdout_text, Catch::Contains("Bo Keeper"));
  for (auto value : {"Ada Lovelace", "ada@example.org", "+44 20 7946 0000"}) {
    CHECK_THAT(exported.stdout_text, !Catch::Contains(value));
  }
  CHECK_THAT(audit(ledger, "purges").output, Catch::Contains("customers 1, entries redacted 3"));
  CHECK(admin(ledger, "check").status == 0);
}
