// verify_ledger catches what an auditor must notice: a changed payload byte, a removed entry,
// a projection row edited behind the log's back, a forged purge receipt. rebuild restores
// projections from the log.
#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/replay.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::put_raw;
using ledger::testing::fill_with_purge;

namespace {


projections::VerifyReport verify(Ledger& ledger) {
  return projections::verify_ledger(eventstore::DatabaseReader(ledger.database()));
}

}  // namespace

TEST_CASE("verify passes on an honest ledger with a purge", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto report = verify(ledger);
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.purges == 1);
  CHECK(report.customers == 3);
}

TEST_CASE("verify names the seq of a payload byte flipped in the log", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  eventstore::DatabaseReader reader(ledger.database());
  auto entry = *eventstore::read_entry(reader, 5);  // Bo's edit
  REQUIRE_FALSE(entry.payload.empty());
  entry.payload[entry.payload.size() - 3] ^= 0x01;
  put_raw(ledger.database(), eventstore::Family::kLog, eventstore::u64_key(5), eventstore::encode_envelope(entry));
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 5);
  CHECK_THAT(report.problem, Catch::Contains("digest"));
}

TEST_CASE("verify notices a removed log entry", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  REQUIRE(ledger.database().db().Delete(rocksdb::WriteOptions(), ledger.database().family(eventstore::Family::kLog),
                                        eventstore::u64_key(3)).ok());
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 3);
}

TEST_CASE("verify notices the last entries cut off the log", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  const auto head = eventstore::load_head(eventstore::DatabaseReader(ledger.database()));
  REQUIRE(ledger.database().db().Delete(rocksdb::WriteOptions(), ledger.database().family(eventstore::Family::kLog),
                                        eventstore::u64_key(head.next_seq - 1)).ok());
  CHECK_FALSE(verify(ledger).ok);
}

TEST_CASE("verify notices a projection row changed behind its back, and rebuild repairs it", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto bo = *ledger.service().customer(2);
  bo.fields.name = "Mallory";
  put_raw(ledger.database(), eventstore::Family::kCustomers, eventstore::u64_key(bo.id), projections::encode_customer(bo));
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.problem, Catch::Contains("customers row " + std::to_string(bo.id)));

  ledger.close();
  {
    auto db = eventstore::Database::open(ledger.dir() / "data", {});
    projections::rebuild_projections(*db);
  }
  ledger.open();
  CHECK(ledger.service().customer(2)->fields.name == "Bo");
  auto repaired = verify(ledger);
  INFO(repaired.problem);
  CHECK(repaired.ok);
}

TEST_CASE("verify notices a number taken out of the free intervals", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  // Number 3 was freed by the purge and 3 given to Ed; 4 must be free.
  rocksdb::WriteBatch batch;
  eventstore::DatabaseReader reader(ledger.database());
  auto intervals = projections::FreeNumbers::all(reader);
  REQUIRE(intervals.front().first == 4);
  REQUIRE(ledger.database().db().Delete(rocksdb::WriteOptions(), ledger.database().family(eventstore::Family::kNumbersFree),
                                        eventstore::u64_key(intervals.front().last)).ok());
  CHECK_FALSE(verify(ledger).ok);
}

TEST_CASE("verify catches a forged purge receipt", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  eventstore::DatabaseReader reader(ledger.database());
  std::optional<eventstore::Envelope> purge;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged)) purge = e;
    return !purge;
  });
  REQUIRE(purge);
  auto receipt = std::get<domain::CustomersPurged>(*domain::decode_event(purge->payload));
  receipt.entries_redacted[0] += 1;
  // A forger who also fixes the digest and the chain from here on is still caught by the stubs.
  auto forged = *purge;
  forged.payload = domain::encode_event(receipt);
  forged.digest = eventstore::sha256(forged.payload);
  put_raw(ledger.database(), eventstore::Family::kLog, eventstore::u64_key(purge->seq), eventstore::encode_envelope(forged));
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == purge->seq);
}

TEST_CASE("free numbers merge back into intervals", "[projections]") {
  CHECK(projections::complement({}) ==
        std::vector<projections::NumberInterval>{{1, domain::kMaxCustomerNumber}});
  CHECK(projections::complement({1, 2, 5}) ==
        std::vector<projections::NumberInterval>{{3, 4}, {6, domain::kMaxCustomerNumber}});

  Ledger ledger;
  for (int i = 0; i < 6; ++i) ledger.create("C" + std::to_string(i));
  accepted(ledger.service().execute(domain::DeleteCustomers{{2, 3, 5}}));
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 3}));
  eventstore::DatabaseReader reader(ledger.database());
  CHECK(projections::FreeNumbers::all(reader) ==
        std::vector<projections::NumberInterval>{{2, 3}, {5, 5}, {7, domain::kMaxCustomerNumber}});
  CHECK(ledger.create("X").numbers == std::vector<domain::CustomerNumber>{2});
  CHECK(ledger.create("Y", 5).numbers == std::vector<domain::CustomerNumber>{5});
  CHECK(projections::FreeNumbers::all(reader) ==
        std::vector<projections::NumberInterval>{{3, 3}, {7, domain::kMaxCustomerNumber}});
}
