// ledger-admin, run as a program: refuses a directory ledgerd holds, checks and rebuilds,
// stats, checkpoints that outlive a purge, CSV import (quoting, UTF-8, bad rows, re-runs, files
// larger than the rows in flight), list export, purge confirmation and compaction.
#include <fstream>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "eventstore/crypto.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "projections/customer_codec.h"
#include "projections/queries.h"
#include "server/crash_injection.h"
#include "support/forgery.h"
#include "support/layout_0_1_0.h"
#include "support/ledger_fixture.h"
#include "tools/import_file.h"
#include "support/run_tool.h"
#include "support/tool_runs.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::admin;
using ledger::testing::audit;
using ledger::testing::Ledger;
using ledger::testing::quoted;

namespace {

std::string write_file(const Ledger& ledger, const std::string& name, const std::string& text) {
  const auto path = (ledger.dir() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void fill(Ledger& ledger) {
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  accepted(ledger.service().execute(domain::DeleteCustomers{{3}}));
}

}  // namespace

TEST_CASE("admin refuses a directory that ledgerd holds", "[admin]") {
  Ledger ledger;
  auto run = admin(ledger, "stats");
  INFO(run.output);
  CHECK(run.status == 2);
  CHECK_THAT(run.output, Catch::Contains("ledgerd is running on") && Catch::Contains("use --server"));
}

TEST_CASE("the reading tools send a 0.1.0 directory to a writing command first, and read it after one", "[admin][migration]") {
  Ledger ledger;
  fill(ledger);
  ledger.close();
  testing::rewrite_in_layout_0_1_0(ledger.dir() / "data");
  for (const auto& refused : {admin(ledger, "check"), audit(ledger, "verify")}) {
    INFO(refused.output);
    CHECK(refused.status == 2);
    CHECK_THAT(refused.output, Catch::Contains("is in the layout of ledger 0.1.0") &&
                                   Catch::Contains("open it once for writing to migrate it") &&
                                   Catch::Contains("ledger-admin compact --data"));
  }

  auto compacted = admin(ledger, "compact");
  INFO(compacted.output);
  REQUIRE(compacted.status == 0);
  CHECK_THAT(compacted.output, Catch::Contains("moved 3 customers' keys into the key store"));
  auto checked = admin(ledger, "check");
  INFO(checked.output);
  CHECK(checked.status == 0);
  CHECK_THAT(checked.output, Catch::Contains("ledger ok"));
  auto verified = audit(ledger, "verify");
  INFO(verified.output);
  CHECK(verified.status == 0);
  ledger.open();
  CHECK(ledger.service().customer(1)->fields.name == "Ada");
}

TEST_CASE("admin check passes, fails on a flipped value byte, and rebuild repairs a projection", "[admin]") {
  Ledger ledger;
  fill(ledger);
  ledger.close();
  auto ok = admin(ledger, "check");
  INFO(ok.output);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.output, Catch::Contains("ledger ok") && Catch::Contains("files ok"));

  ledger.open();
  auto ada = *ledger.service().customer(1);
  ada.fields.name = "Eve";
  testing::put_state(ledger.database(), ada);
  ledger.close();
  auto bad = admin(ledger, "check");
  INFO(bad.output);
  CHECK(bad.status == 1);
  CHECK_THAT(bad.output, Catch::Contains("ledger FAILED") && Catch::Contains("customers row 1"));

  auto rebuilt = admin(ledger, "rebuild");
  INFO(rebuilt.output);
  CHECK(rebuilt.status == 0);
  CHECK_THAT(rebuilt.output, Catch::Contains("before: projection differs") && Catch::Contains("now equal a fresh replay"));
  ledger.open();
  CHECK(ledger.service().customer(1)->fields.name == "Ada");
}

TEST_CASE("admin stats counts customers, events and stubs", "[admin]") {
  Ledger ledger;
  fill(ledger);
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));
  ledger.close();
  auto run = admin(ledger, "--json stats");
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto doc = boost::json::parse(run.stdout_text).as_object();
  CHECK(doc["active"].as_int64() == 2);
  CHECK(doc["deleted"].as_int64() == 0);
  CHECK(doc["events"].as_int64() == 5);
  CHECK(doc["stubs"].as_int64() == 2);
  CHECK(doc["last_purge_seq"].as_int64() == 5);
  CHECK(doc["families"].as_object().contains("log"));
}

TEST_CASE("checkpoints taken before a purge are listed as holding purged data and pruned", "[admin]") {
  Ledger ledger;
  fill(ledger);
  ledger.close();
  const auto backup = ledger.dir() / "backup-1";
  auto made = admin(ledger, "checkpoint " + quoted(backup.string()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  REQUIRE(std::filesystem::exists(backup / "CURRENT"));

  auto before = admin(ledger, "stats");
  CHECK_THAT(before.output, Catch::Contains(backup.string()) && !Catch::Contains("HOLDS PURGED DATA"));

  auto purged = admin(ledger, "purge --yes --expect-count 1");
  INFO(purged.output);
  REQUIRE(purged.status == 0);
  CHECK_THAT(purged.output, Catch::Contains("purged 1 customers") && Catch::Contains("numbers freed: 3"));
  CHECK_THAT(purged.output, Catch::Contains("erasure report") && Catch::Contains("still holds purged customers' data"));

  auto after = admin(ledger, "stats");
  CHECK_THAT(after.output, Catch::Contains("HOLDS PURGED DATA"));
  auto pruned = admin(ledger, "checkpoint prune --purged");
  INFO(pruned.output);
  CHECK(pruned.status == 0);
  CHECK_FALSE(std::filesystem::exists(backup));
}

TEST_CASE("a checkpoint holds no keys, and a key store copy taken with it is named after a purge and its purged keys destroyed",
          "[admin][sealing]") {
  Ledger ledger;
  fill(ledger);  // Ada, Bo, Cy (id 3) deleted
  ledger.close();
  const auto backup = ledger.dir() / "backup-1";
  const auto keys = ledger.dir() / "keys-1";
  auto made = admin(ledger, "checkpoint " + quoted(backup.string()) + " --keys " + quoted(keys.string()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  CHECK_FALSE(std::filesystem::exists(backup / "keystore"));
  REQUIRE(std::filesystem::exists(keys / "CURRENT"));
  // A copy inside the data directory would go with every copy of the data: refused.
  auto inside = admin(ledger, "checkpoint " + quoted((ledger.dir() / "backup-2").string()) + " --keys " +
                                  quoted((ledger.dir() / "data" / "keys-2").string()));
  CHECK(inside.status == 2);
  CHECK_THAT(inside.output, Catch::Contains("must lie outside the data directory"));
  CHECK_FALSE(std::filesystem::exists(ledger.dir() / "backup-2"));

  auto before = admin(ledger, "stats");
  CHECK_THAT(before.output, Catch::Contains(keys.string()) && !Catch::Contains("PURGED CUSTOMERS"));
  auto purged = admin(ledger, "purge --yes --expect-count 1");
  INFO(purged.output);
  REQUIRE(purged.status == 0);
  CHECK_THAT(purged.output, Catch::Contains("key store copy " + keys.string() + " still holds the keys of 1 purged customers"));
  auto after = admin(ledger, "--json stats");
  INFO(after.output);
  const auto copies = boost::json::parse(after.stdout_text).as_object().at("key_store_copies").as_array();
  REQUIRE(copies.size() == 1);
  CHECK(copies[0].as_object().at("purged_keys").to_number<std::uint64_t>() == 1);

  auto pruned = admin(ledger, "checkpoint prune --purged");
  INFO(pruned.output);
  CHECK(pruned.status == 0);
  CHECK_THAT(pruned.output, Catch::Contains("key store copy " + keys.string() + ": keys of 1 purged customers destroyed, "
                                            "no byte of them left in its files"));
  auto copy = eventstore::KeyStore::open_copy(keys, eventstore::KeyStore::Mode::kReadOnly);
  CHECK_FALSE(copy->get(3));
  CHECK(copy->get(1));
  copy.reset();
  auto clean = admin(ledger, "stats");
  CHECK_THAT(clean.output, Catch::Contains(keys.string()) && !Catch::Contains("PURGED CUSTOMERS"));
}

TEST_CASE("admin purge asks for confirmation and refuses without a terminal", "[admin]") {
  Ledger ledger;
  fill(ledger);
  ledger.close();
  auto refused = admin(ledger, "purge");
  CHECK(refused.status == 2);
  CHECK_THAT(refused.output, Catch::Contains("--yes"));
  auto wrong_count = admin(ledger, "purge --yes --expect-count 2");
  CHECK(wrong_count.status == 2);
  ledger.open();
  CHECK(ledger.service().customer(3).has_value());
}

TEST_CASE("admin import reads quoted fields with commas, newlines and UTF-8, and a re-run creates nothing", "[admin]") {
  Ledger ledger;
  ledger.close();
  const auto csv = write_file(ledger, "customers.csv",
                              "number,name,company,email,phone,address,notes\r\n"
                              "7,\"Müller, Jürgen\",\"ACME \"\"Tools\"\"\",jm@example.de,+49 30 1234,\"Hauptstr. 1\n10115 Berlin\",\n"
                              ",Zoë 東京,,,,,\"first line\nsecond, line\"\n");
  auto first = admin(ledger, "import " + quoted(csv));
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK_THAT(first.output, Catch::Contains("imported 2 customers"));

  auto again = admin(ledger, "import " + quoted(csv));
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK_THAT(again.output, Catch::Contains("imported 0 customers, 2 already imported"));

  auto exported = admin(ledger, "export --active --format csv");
  CHECK_THAT(exported.output, Catch::Contains("7,\"Müller, Jürgen\",\"ACME \"\"Tools\"\"\""));

  ledger.open();
  auto muller = ledger.service().customer(7);
  REQUIRE(muller);
  CHECK(muller->fields.name == "Müller, Jürgen");
  CHECK(muller->fields.company == "ACME \"Tools\"");
  CHECK(muller->fields.address == "Hauptstr. 1\n10115 Berlin");
  auto zoe = ledger.service().customer(1);
  REQUIRE(zoe);
  CHECK(zoe->fields.name == "Zoë 東京");
  CHECK(zoe->fields.notes == "first line\nsecond, line");
  CHECK(ledger.service().list(projections::CustomerList::kActive, 0, 100).customers.size() == 2);
}

TEST_CASE("admin import: a row whose request key was used for another command is refused, not counted as imported",
          "[admin][request-key]") {
  Ledger ledger;
  const std::string text = "number,name,company,email,phone,address,notes\n,Ada,,,,,\n,Bo,,,,,\n";
  const auto csv = write_file(ledger, "people.csv", text);
  // Line 2's key, as docs/tools.md gives it, already used by the same actor for a delete.
  const auto key = "import:" + eventstore::to_hex(eventstore::sha256(text)).substr(0, 40) + ":2";
  ledger.create("Cy");
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}, {"ledger-admin", key}));
  ledger.close();

  auto run = admin(ledger, "import " + quoted(csv));
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("people.csv:2: this request key was already used for a delete") &&
                             Catch::Contains("imported 1 customers, 0 already imported by an earlier run, 1 refused"));
  ledger.open();
  CHECK(ledger.service().list(projections::CustomerList::kActive, 0, 100).customers.size() == 1);
  CHECK(ledger.service().customer(2)->fields.name == "Bo");
}

TEST_CASE("admin import with one bad row imports nothing and names the line", "[admin]") {
  Ledger ledger;
  ledger.close();
  const auto csv = write_file(ledger, "bad.csv",
                              "number,name,company,email,phone,address,notes\n"
                              ",Good One,,,,,\n"
                              ",\"Two\nLines\",,,,,\n"
                              ",Bad Mail,,not-an-email,,,\n");
  auto run = admin(ledger, "import " + quoted(csv));
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("bad.csv:5:") && Catch::Contains("email") && Catch::Contains("imported nothing"));
  // A name may not hold a line break; the record is named by the line it starts on.
  CHECK_THAT(run.output, Catch::Contains("bad.csv:3:") && !Catch::Contains("bad.csv:4:"));

  ledger.open();
  CHECK(ledger.service().list(projections::CustomerList::kActive, 0, 100).customers.empty());
  ledger.close();

  auto skipped = admin(ledger, "import --skip-bad " + quoted(csv));
  INFO(skipped.output);
  CHECK(skipped.status == 0);
  CHECK_THAT(skipped.output, Catch::Contains("imported 1 customers") && Catch::Contains("2 bad rows skipped"));
}

TEST_CASE("admin import of thousands of rows creates each customer once, a re-run none, and a bad row only loses itself", "[admin]") {
  Ledger ledger;
  ledger.close();
  const auto file = testing::many_customers(3000, 100'000);
  const auto csv = write_file(ledger, "many.csv", file.csv);
  // Fewer rows in flight than the file holds: submitting waits for answers as well.
  auto first = admin(ledger, "import --batch 500 " + quoted(csv));
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK_THAT(first.output, Catch::Contains("imported 3000 customers, 0 already imported by an earlier run, 0 refused, 0 bad rows skipped"));
  auto again = admin(ledger, "import " + quoted(csv));
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK_THAT(again.output, Catch::Contains("imported 0 customers, 3000 already imported by an earlier run, 0 refused"));

  const auto with_bad = testing::many_customers(3000, 200'000, 1500);
  const auto bad_csv = write_file(ledger, "with-bad.csv", with_bad.csv);
  auto skipped = admin(ledger, "import --skip-bad " + quoted(bad_csv));
  INFO(skipped.output);
  CHECK(skipped.status == 0);
  CHECK_THAT(skipped.output, Catch::Contains("with-bad.csv:" + std::to_string(with_bad.bad_line) + ": name") &&
                                 Catch::Contains("imported 2999 customers, 0 already imported by an earlier run, 0 refused, 1 bad rows skipped"));

  ledger.open();
  const auto next = testing::check_imported(ledger.service(), file.good, 1);
  testing::check_imported(ledger.service(), with_bad.good, next);
  CHECK(testing::count_active(ledger.service()) == 5999);
}

TEST_CASE("admin import cut off after its first group: a re-run creates exactly the rows it had not written", "[admin]") {
  Ledger ledger;
  ledger.close();
  const auto file = testing::many_customers(3000, 100'000);
  const auto csv = write_file(ledger, "many.csv", file.csv);
  // The process dies once its first group is durable, before any row is answered.
  auto crashed = testing::run_tool("env", "LEDGER_CRASH_AT=after_first_group " + quoted(LEDGER_ADMIN_PATH) + " --data " +
                                              quoted((ledger.dir() / "data").string()) + " import " + quoted(csv));
  INFO(crashed.output);
  REQUIRE(crashed.status == server::kInjectedCrashExitStatus);
  ledger.open();
  const auto done = testing::count_active(ledger.service());
  ledger.close();
  REQUIRE(done > 0);
  REQUIRE(done < 3000);

  auto again = admin(ledger, "import " + quoted(csv));
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK_THAT(again.output, Catch::Contains(fmt::format("imported {} customers, {} already imported by an earlier run, 0 refused",
                                                       3000 - done, done)));
  ledger.open();
  testing::check_imported(ledger.service(), file.good, 1);
  CHECK(testing::count_active(ledger.service()) == 3000);
}

TEST_CASE("admin export lists deleted customers as JSON lines, and compact runs", "[admin]") {
  Ledger ledger;
  fill(ledger);
  ledger.close();
  auto run = admin(ledger, "export --deleted --format jsonl");
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto cy = boost::json::parse(run.stdout_text).as_object();
  CHECK(cy["number"].as_int64() == 3);
  CHECK(cy["name"].as_string() == "Cy");
  auto compacted = admin(ledger, "compact");
  INFO(compacted.output);
  CHECK(compacted.status == 0);
  CHECK_THAT(compacted.output, Catch::Contains("compacted every column family"));
  CHECK(admin(ledger, "check").status == 0);
}
