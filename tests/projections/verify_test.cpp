// verify_ledger catches what an auditor must notice: a changed payload byte, a removed entry,
// a projection row edited behind the log's back, a forged purge receipt. rebuild restores
// projections from the log.
#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/rebuild.h"
#include "projections/verify.h"
#include "server/outcome.h"
#include "support/forgery.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::put_raw;
using ledger::testing::fill_with_purge;
using ledger::testing::rewrite_and_rechain;

namespace {

constexpr auto kPurgedKind = static_cast<std::uint16_t>(domain::EventKind::kPurged);

projections::VerifyReport verify(Ledger& ledger) {
  return projections::verify_ledger(eventstore::DatabaseReader(ledger.database()),
                                    {.digests = true, .read_remembered = server::remembered_write});
}

eventstore::Envelope entry_at(Ledger& ledger, std::uint64_t seq) {
  auto entry = eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), seq);
  REQUIRE(entry);
  return *entry;
}

// Rewrites the purge receipt at `seq` with `change`, its digest with it, and the chain after it.
void forge_receipt(Ledger& ledger, std::uint64_t seq, const std::function<void(domain::CustomersPurged&)>& change) {
  rewrite_and_rechain(ledger.database(), seq, [&](eventstore::Envelope& e) {
    if (e.seq != seq) return;
    auto receipt = std::get<domain::CustomersPurged>(*domain::decode_event(e.payload));
    change(receipt);
    e.payload = domain::encode_event(receipt);
    e.digest = eventstore::sha256(e.payload);
  });
}

constexpr std::uint64_t kPurgeSeq = 8;  // fill_with_purge's purge of Cy (id 3, number 3) and Di (id 4, number 4)

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
  testing::put_entry(ledger.database(), entry);
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
  testing::put_state(ledger.database(), bo);
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
  testing::put_entry(ledger.database(), forged);
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == purge->seq);
}

TEST_CASE("verify catches a receipt whose number freed was rewritten, with its digest and the chain redone", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  REQUIRE(entry_at(ledger, kPurgeSeq).kind == kPurgedKind);
  REQUIRE(verify(ledger).ok);
  forge_receipt(ledger, kPurgeSeq, [](domain::CustomersPurged& receipt) {
    REQUIRE(receipt.numbers == std::vector<domain::CustomerNumber>{3, 4});
    receipt.numbers[0] = 42;
  });
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == kPurgeSeq);
  CHECK_THAT(report.problem, Catch::Contains("frees number 42 for customer id 3") &&
                                 Catch::Contains("the log gives that customer number 3"));
}

TEST_CASE("verify catches a receipt whose entry count and Merkle root were both rewritten to match", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  // Cy has two stubs; a forger claims one, with the root of that one alone.
  const auto cy_created = entry_at(ledger, 3);
  forge_receipt(ledger, kPurgeSeq, [&](domain::CustomersPurged& receipt) {
    receipt.entries_redacted[0] = 1;
    receipt.merkle_root = eventstore::merkle_root({cy_created.digest});
  });
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == kPurgeSeq);
  CHECK_THAT(report.problem, Catch::Contains("counts 1 entries of customer id 3, but the log holds 2"));
}

TEST_CASE("verify catches a receipt naming a customer that was not deleted at that moment", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  // Di's delete (seq 7) rewritten into an edit, the chain redone: the stubs and the receipt
  // still agree with each other, but not with what the log says happened to Di.
  REQUIRE(entry_at(ledger, 7).customer == 4);
  rewrite_and_rechain(ledger.database(), 7, [](eventstore::Envelope& e) {
    if (e.seq == 7) e.kind = static_cast<std::uint16_t>(domain::EventKind::kEdited);
  });
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == kPurgeSeq);
  CHECK_THAT(report.problem, Catch::Contains("names customer id 4, which was not deleted at that moment"));
}

TEST_CASE("verify catches a receipt that leaves out a customer deleted at that moment", "[verify]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo"}) ledger.create(name);
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@example.org"}}, {}}));  // seq 3
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));            // seq 4
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));  // seq 5: Bo only
  REQUIRE(verify(ledger).ok);
  // A forger holding the directory turns Ada's edit into a delete, signs it with her key (which
  // lives in the same database) and redoes the chain: the receipt now omits a deleted customer.
  const auto ada_key = *eventstore::stream_key(eventstore::DatabaseReader(ledger.database()), 1);
  rewrite_and_rechain(ledger.database(), 3, [&](eventstore::Envelope& e) {
    if (e.seq != 3) return;
    e.kind = static_cast<std::uint16_t>(domain::EventKind::kDeleted);
    e.payload = domain::encode_event(domain::CustomerDeleted{1, 1});
    e.digest = eventstore::hmac_sha256(ada_key, e.payload);
  });
  auto report = verify(ledger);
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 5);
  CHECK_THAT(report.problem, Catch::Contains("customer id 1 was deleted at that moment but the purge receipt leaves it out"));
}

TEST_CASE("a stub keeps its customer's number under the chain", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto cy_created = entry_at(ledger, 3);
  REQUIRE(cy_created.redacted());
  CHECK(cy_created.number == 3);

  SECTION("changed in place, the chain breaks") {
    cy_created.number = 9;
    testing::put_entry(ledger.database(), cy_created);
    auto report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK(report.first_bad_seq == 3);
    CHECK_THAT(report.problem, Catch::Contains("chain"));
  }
  SECTION("changed with the chain redone, it no longer agrees with the customer's other entries") {
    rewrite_and_rechain(ledger.database(), 3, [](eventstore::Envelope& e) {
      if (e.seq == 3) e.number = 9;
    });
    auto report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK(report.first_bad_seq == 6);
    CHECK_THAT(report.problem, Catch::Contains("carries number 3, but customer id 3's entries carry 9"));
  }
  SECTION("changed on every entry of the customer with the chain redone, the receipt no longer matches") {
    rewrite_and_rechain(ledger.database(), 3, [](eventstore::Envelope& e) {
      if (e.customer == 3) e.number = 4;
    });
    auto report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK(report.first_bad_seq == kPurgeSeq);
    CHECK_THAT(report.problem, Catch::Contains("frees number 3 for customer id 3"));
  }
}

TEST_CASE("verify reports a streams row removed or added behind the ledger's back, with its key", "[verify]") {
  Ledger ledger;
  fill_with_purge(ledger);
  auto& db = ledger.database();
  SECTION("removed") {
    REQUIRE(db.db().Delete(rocksdb::WriteOptions(), db.family(eventstore::Family::kStreams), eventstore::u64_pair_key(2, 5)).ok());
    auto report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("streams row customer 2 seq 5 is missing"));
  }
  SECTION("added for a purged customer") {
    put_raw(db, eventstore::Family::kStreams, eventstore::u64_pair_key(3, 3), {});
    auto report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("streams row customer 3 seq 3 should not exist"));
  }
}

TEST_CASE("verify checks the requests rows against the entries that wrote them", "[verify]") {
  Ledger ledger;
  auto run = [&](domain::Command command, std::string key) {
    return accepted(ledger.service().execute(std::move(command), {.actor = "pos", .request_key = std::move(key)}));
  };
  run(domain::CreateCustomer{ledger::testing::person("Ann"), {}}, "k1");  // seq 1
  run(domain::CreateCustomer{ledger::testing::person("Ben"), {}}, "k2");  // seq 2
  run(domain::DeleteCustomers{{1, 2}}, "k3");                             // seqs 3, 4
  run(domain::UndeleteCustomers{{2}}, "k4");                              // seq 5
  run(domain::EditCustomer{2, {{domain::Field::kName, "Ben"}}, {}}, "k5");  // nothing changed
  // Ann is purged with her entries' rows, k3's among them, although Ben's delete carries k3 too.
  run(domain::PurgeDeletedCustomers{true, 1}, "k6");                      // seq 6
  auto report = verify(ledger);
  INFO(report.problem);
  REQUIRE(report.ok);
  CHECK(report.requests_checked);
  CHECK(report.requests == 4);  // k2, k4, k5, k6

  auto& db = ledger.database();
  const auto row = [](std::string key) { return eventstore::request_row_key("pos", key); };
  SECTION("a row removed") {
    REQUIRE(db.db().Delete(rocksdb::WriteOptions(), db.family(eventstore::Family::kRequests), row("k2")).ok());
    report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK(report.first_bad_seq == 2);
    CHECK_THAT(report.problem, Catch::Contains("requests row " + eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(row("k2").data()), 32)) &&
                                   Catch::Contains("is missing"));
  }
  SECTION("a row's answer changed") {
    server::Accepted forged;
    forged.seqs = {5};
    forged.numbers = {7};
    put_raw(db, eventstore::Family::kRequests, row("k4"), server::encode_remembered(entry_at(ledger, 5).at_us,
                                                                     server::fingerprint(domain::UndeleteCustomers{{2}}, "k4"), forged));
    report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("answers numbers that differ"));
  }
  SECTION("a row pointing at another command's entry") {
    server::Accepted forged;
    forged.seqs = {2};
    forged.id = 2;
    forged.numbers = {2};
    put_raw(db, eventstore::Family::kRequests, row("k9"), server::encode_remembered(entry_at(ledger, 2).at_us,
                                                                     server::fingerprint(domain::CreateCustomer{ledger::testing::person("Ben"), {}}, "k9"), forged));
    report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("names entry 2, which was not written with its request key"));
  }
  SECTION("a row that is not an outcome") {
    put_raw(db, eventstore::Family::kRequests, row("k2"), "garbage");
    report = verify(ledger);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.problem, Catch::Contains("is not a remembered outcome"));
  }
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
