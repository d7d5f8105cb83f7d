// ledger-audit, run as a program against data directories built in process: verify catches
// tampering, history and replay show what an auditor needs, prove-purge accepts an honest purge
// and rejects an extra removal, and the audit works while a writer keeps writing.
#include <algorithm>
#include <atomic>
#include <sstream>
#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/customer_codec.h"
#include "support/forgery.h"
#include "support/ledger_fixture.h"
#include "support/run_tool.h"
#include "support/tool_runs.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::audit;
using ledger::testing::Ledger;
using ledger::testing::put_raw;
using ledger::testing::fill_with_purge;
using ledger::testing::quoted;

namespace {


std::uint64_t purge_seq(eventstore::Database& database) {
  std::uint64_t found = 0;
  eventstore::scan_entries(eventstore::DatabaseReader(database), 1, [&](const eventstore::Envelope& e) {
    if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged)) found = e.seq;
    return true;
  });
  return found;
}

}  // namespace

TEST_CASE("audit verify passes on an honest ledger", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  ledger.close();
  auto run = audit(ledger, "verify");
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK_THAT(run.output, Catch::StartsWith("ok: 9 entries"));
}

TEST_CASE("audit verify names the seq of a byte flipped in a log value", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto entry = *eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), 5);
  entry.payload[entry.payload.size() - 3] ^= 0x01;
  testing::put_entry(ledger.database(), entry);
  ledger.close();
  auto run = audit(ledger, "verify");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("FAILED at seq 5") && Catch::Contains("digest"));
}

TEST_CASE("audit verify notices a deleted log entry", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  REQUIRE(ledger.database().db().Delete(rocksdb::WriteOptions(), ledger.database().family(eventstore::Family::kLog),
                                        eventstore::u64_key(3)).ok());
  ledger.close();
  auto run = audit(ledger, "--json verify");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("\"first_bad_seq\":3") && Catch::Contains("missing"));
}

TEST_CASE("audit verify notices an edited projection row", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto bo = *ledger.service().customer(2);
  bo.fields.name = "Mallory";
  testing::put_state(ledger.database(), bo);
  ledger.close();
  auto run = audit(ledger, "verify");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("customers row " + std::to_string(bo.id)));
}

TEST_CASE("audit verify catches a forged purge receipt", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  const auto seq = purge_seq(ledger.database());
  auto purge = *eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), seq);
  auto receipt = std::get<domain::CustomersPurged>(*domain::decode_event(purge.payload));
  receipt.entries_redacted[0] += 1;
  purge.payload = domain::encode_event(receipt);
  purge.digest = eventstore::sha256(purge.payload);
  testing::put_entry(ledger.database(), purge);
  ledger.close();
  auto run = audit(ledger, "verify");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("FAILED at seq " + std::to_string(seq)));
}

TEST_CASE("audit history shows changes old to new, and a reused number only for its holder", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  accepted(ledger.service().execute(domain::EditCustomer{2, {{domain::Field::kName, "Bob"}}, {}}));
  ledger.close();
  auto bo = audit(ledger, "history 2");
  INFO(bo.output);
  CHECK(bo.status == 0);
  CHECK_THAT(bo.output, Catch::Contains("CustomerCreated\n    name: \"\" → \"Bo\"\n"));
  CHECK_THAT(bo.output, Catch::Contains("CustomerEdited\n    email: \"\" → \"bo@example.org\"\n"));
  CHECK_THAT(bo.output, Catch::Contains("CustomerEdited\n    name: \"Bo\" → \"Bob\"\n"));
  auto bo_json = audit(ledger, "--json history 2");
  INFO(bo_json.output);
  REQUIRE(bo_json.status == 0);
  const auto steps = boost::json::parse(bo_json.stdout_text).as_array();
  REQUIRE(steps.size() == 3);
  CHECK(steps[2].at("changes") ==
        boost::json::array{boost::json::object{{"field", "name"}, {"old", "Bo"}, {"new", "Bob"}}});

  auto three = audit(ledger, "history 3");  // Cy held 3 before the purge; Ed holds it now
  INFO(three.output);
  CHECK(three.status == 0);
  CHECK_THAT(three.output, Catch::Contains("\"Ed\""));
  CHECK_THAT(three.output, !Catch::Contains("Cy") && !Catch::Contains("deleted"));

  auto cy = audit(ledger, "history --id 3");  // Cy's stubs
  INFO(cy.output);
  CHECK(cy.status == 0);
  CHECK_THAT(cy.output, Catch::Contains("erased by purge") && !Catch::Contains("Cy"));
}

TEST_CASE("audit replay shows the lists as they were before the purge", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  ledger.close();
  auto before = audit(ledger, "--json replay --until 7");
  INFO(before.output);
  REQUIRE(before.status == 0);
  auto doc = boost::json::parse(before.stdout_text).as_object();
  CHECK(doc["active"].as_array().size() == 2);
  REQUIRE(doc["deleted"].as_array().size() == 2);
  CHECK(doc["deleted"].as_array()[0].as_object()["number"].as_int64() == 3);
  CHECK(doc["deleted"].as_array()[0].as_object().contains("erased_by"));

  auto now = audit(ledger, "replay --at 2999-01-01");
  INFO(now.output);
  CHECK(now.status == 0);
  CHECK_THAT(now.output, Catch::Contains("active (3)") && Catch::Contains("deleted (0)") && Catch::Contains("Ed"));
  auto early = audit(ledger, "replay --at 1970-01-01");
  CHECK_THAT(early.output, Catch::Contains("before the first entry"));
}

TEST_CASE("audit export writes decoded entries and stubs, and purges lists the receipt", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  ledger.close();
  auto run = audit(ledger, "export --from 2 --until 9");
  INFO(run.output);
  REQUIRE(run.status == 0);
  std::istringstream lines(run.stdout_text);
  std::string line;
  std::vector<boost::json::object> entries;
  while (std::getline(lines, line)) entries.push_back(boost::json::parse(line).as_object());
  REQUIRE(entries.size() == 8);
  CHECK(entries[0]["seq"].as_int64() == 2);
  CHECK(entries[0]["event"].as_object()["fields"].as_object()["name"].as_string() == "Bo");
  CHECK(entries[1]["stub"].as_bool());  // Cy's creation
  CHECK_FALSE(entries[1].contains("event"));
  CHECK(entries[1]["digest"].as_string().size() == 64);

  auto purges = audit(ledger, "purges");
  INFO(purges.output);
  CHECK(purges.status == 0);
  CHECK_THAT(purges.output, Catch::Contains("customers 2, entries redacted 4, numbers freed: 3, 4"));
}

TEST_CASE("audit export gives each edit its fields' old values, also from a seq after the creation", "[audit]") {
  Ledger ledger;
  ledger.create("Ada");
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kName, "Ada King"}}, {}}));
  accepted(ledger.service().execute(
      domain::EditCustomer{1, {{domain::Field::kNotes, "owes 12.50"}, {domain::Field::kName, "Ada Lovelace"}}, {}}));
  ledger.close();
  const auto events = [&](const std::string& args) {
    auto run = audit(ledger, args);
    INFO(run.output);
    REQUIRE(run.status == 0);
    std::istringstream lines(run.stdout_text);
    std::vector<boost::json::object> out;
    for (std::string line; std::getline(lines, line);) out.push_back(boost::json::parse(line).at("event").as_object());
    return out;
  };
  auto all = events("export");
  REQUIRE(all.size() == 3);
  CHECK_FALSE(all[0].contains("old"));  // a creation has no old values
  CHECK(all[1].at("old") == boost::json::object{{"name", "Ada"}});
  CHECK(all[2].at("old") == boost::json::object{{"notes", ""}, {"name", "Ada King"}});
  CHECK(all[2].at("changes") == boost::json::object{{"notes", "owes 12.50"}, {"name", "Ada Lovelace"}});
  auto last = events("export --from 3");
  REQUIRE(last.size() == 1);
  CHECK(last[0].at("old") == all[2].at("old"));
}

TEST_CASE("prove-purge passes on an honest purge and fails when an extra entry was removed", "[audit]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy", "Di"}) ledger.create(name);
  accepted(ledger.service().execute(domain::DeleteCustomers{{3, 4}}));
  ledger.close();
  const auto export_file = (ledger.dir() / "before.jsonl").string();
  auto exported = audit(ledger, "export > " + quoted(export_file));
  REQUIRE(exported.status == 0);
  ledger.open();
  ledger.create("Fay");
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 2}));
  const auto seq = purge_seq(ledger.database());
  ledger.close();

  auto honest = audit(ledger, "prove-purge " + quoted(export_file));
  INFO(honest.output);
  CHECK(honest.status == 0);
  CHECK_THAT(honest.output, Catch::Contains("removed 4 entries") && Catch::EndsWith("proven\n"));

  // Redact Bo's creation (seq 2) as if the purge had taken it too.
  ledger.open();
  auto bo = *eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), 2);
  bo.payload.clear();
  bo.request.clear();
  bo.redacted_by = seq;
  testing::put_entry(ledger.database(), bo);
  ledger.close();
  auto tampered = audit(ledger, "prove-purge " + quoted(export_file));
  INFO(tampered.output);
  CHECK(tampered.status == 1);
  CHECK_THAT(tampered.output, Catch::Contains("entry 2 (customer id 2) was removed by purge " + std::to_string(seq)));
}

TEST_CASE("audit verifies and exports while a writer keeps writing", "[audit]") {
  Ledger ledger;
  fill_with_purge(ledger);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    while (!stop) {
      // No REQUIRE off the test's thread: Catch2 assertions are not thread-safe.
      auto outcome = ledger.service().execute(domain::CreateCustomer{testing::person("W"), {}});
      if (std::holds_alternative<server::Accepted>(outcome)) ++written;
    }
  });
  const int before = written.load();
  auto first = audit(ledger, "verify");
  auto second = audit(ledger, "verify");
  auto exported = audit(ledger, "export");
  const int after = written.load();
  stop = true;
  writer.join();
  INFO(first.output << second.output);
  CHECK(first.status == 0);
  CHECK(second.status == 0);
  CHECK(exported.status == 0);
  CHECK(std::count(exported.output.begin(), exported.output.end(), '\n') >= 10);
  CHECK(after > before);  // the writer really ran during the audit
}
