// Rewriting history with write access to the data directory, as an attacker who holds it
// would: the HMAC keys live in the same database, so a consistent rewrite passes `ledger-audit
// verify`. A head recorded before the rewrite (`ledger-audit witness`, kept outside the
// directory) makes `verify --witness` fail. Two rewrites: the last entries cut off and the
// projections rebuilt; one entry's payload changed, its digest signed again with its customer's
// key and every later link chained again. And a purge receipt rewritten to free another number,
// which verify itself catches: the stubs keep their customer's number under the chain.
#include <string>
#include <variant>

#include <catch2/catch.hpp>
#include <rocksdb/write_batch.h>

#include "domain/events.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "support/forgery.h"
#include "support/ledger_fixture.h"
#include "support/run_tool.h"
#include "support/tool_runs.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::admin;
using ledger::testing::audit;
using ledger::testing::Ledger;
using ledger::testing::quoted;

namespace {

void rebuild(Ledger& ledger) {
  auto run = admin(ledger, "rebuild");
  INFO(run.output);
  REQUIRE(run.status == 0);
}

void write(Ledger& ledger, rocksdb::WriteBatch& batch) {
  REQUIRE(ledger.database().db().Write(rocksdb::WriteOptions(), &batch).ok());
}

// Removes every entry after `keep` with its stream and idempotency rows, and sets the head in
// meta back to entry `keep`.
void cut_after(Ledger& ledger, std::uint64_t keep) {
  eventstore::DatabaseReader reader(ledger.database());
  auto& db = ledger.database();
  rocksdb::WriteBatch batch;
  const auto next = eventstore::load_head(reader).next_seq;
  for (auto seq = keep + 1; seq < next; ++seq) {
    const auto entry = *eventstore::read_entry(reader, seq);
    REQUIRE(batch.Delete(db.family(eventstore::Family::kLog), eventstore::u64_key(seq)).ok());
    REQUIRE(batch.Delete(db.family(eventstore::Family::kStreams), eventstore::u64_pair_key(entry.customer, seq)).ok());
    REQUIRE(batch.Delete(db.family(eventstore::Family::kRequests), eventstore::request_row_key(entry.actor, entry.request)).ok());
  }
  REQUIRE(batch.Put(db.family(eventstore::Family::kMeta), testing::kHeadSeqKey, eventstore::u64_key(keep + 1)).ok());
  REQUIRE(batch.Put(db.family(eventstore::Family::kMeta), testing::kHeadChainKey,
                    eventstore::as_bytes(eventstore::read_entry(reader, keep)->chain)).ok());
  write(ledger, batch);
}

// Gives the customer created at `seq` another name, signs the new payload with the customer's
// key from the keys family, and chains every entry from `seq` to the head again.
void rename_at(Ledger& ledger, std::uint64_t seq, const std::string& name) {
  eventstore::DatabaseReader reader(ledger.database());
  const auto key = *eventstore::stream_key(reader, eventstore::read_entry(reader, seq)->customer);
  testing::rewrite_and_rechain(ledger.database(), seq, [&](eventstore::Envelope& e) {
    if (e.seq != seq) return;
    auto created = std::get<domain::CustomerCreated>(*domain::decode_event(e.payload));
    created.fields.name = name;
    e.payload = domain::encode_event(created);
    e.digest = eventstore::hmac_sha256(key, e.payload);
  });
}

}  // namespace

TEST_CASE("cutting the last entries and rebuilding passes verify, not verify --witness", "[reliability][witness]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  accepted(ledger.service().execute(domain::EditCustomer{2, {{domain::Field::kEmail, "bo@example.org"}}, {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{3}}));
  ledger.close();
  const auto witness = (ledger.dir() / "witness.txt").string();
  REQUIRE(audit(ledger, "witness --out " + quoted(witness)).status == 0);

  // Bo's email and Cy's deletion disappear.
  ledger.open();
  cut_after(ledger, 3);
  ledger.close();
  rebuild(ledger);

  auto plain = audit(ledger, "verify");
  INFO(plain.output);
  CHECK(plain.status == 0);
  CHECK_THAT(plain.output, Catch::StartsWith("ok: 3 entries"));
  auto witnessed = audit(ledger, "verify --witness " + quoted(witness));
  INFO(witnessed.output);
  CHECK(witnessed.status == 1);
  CHECK_THAT(witnessed.output, Catch::Contains("WITNESS FAILED at " + witness + " line 1: the log no longer extends the head "
                                               "recorded at seq 5") &&
                                   Catch::Contains("entry missing: log ends at 3"));

  // New entries in place of the cut ones make the log as long again, not the same.
  ledger.open();
  ledger.create("Di");
  ledger.create("Ed");
  ledger.close();
  auto regrown = audit(ledger, "verify --witness " + quoted(witness));
  INFO(regrown.output);
  CHECK(regrown.status == 1);
  CHECK_THAT(regrown.output, Catch::StartsWith("ok: 5 entries") && Catch::Contains("recorded at seq 5") &&
                                 Catch::Contains("found chain"));
}

TEST_CASE("an entry edited, signed again and chained again passes verify, not verify --witness", "[reliability][witness]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  accepted(ledger.service().execute(domain::EditCustomer{2, {{domain::Field::kEmail, "bo@example.org"}}, {}}));
  ledger.close();
  const auto witness = (ledger.dir() / "witness.txt").string();
  REQUIRE(audit(ledger, "witness --out " + quoted(witness)).status == 0);
  ledger.open();
  ledger.create("Di");  // written after the witness: a rewrite may reach past the last head
  ledger.close();

  ledger.open();
  rename_at(ledger, 2, "Mallory");
  ledger.close();
  rebuild(ledger);

  auto history = audit(ledger, "history 2");
  INFO(history.output);
  CHECK_THAT(history.output, Catch::Contains("Mallory") && !Catch::Contains("\"Bo\""));  // the rewrite took
  auto plain = audit(ledger, "verify");
  INFO(plain.output);
  CHECK(plain.status == 0);
  CHECK_THAT(plain.output, Catch::StartsWith("ok: 5 entries (0 stubs) chain and digests verified"));
  auto witnessed = audit(ledger, "verify --witness " + quoted(witness));
  INFO(witnessed.output);
  CHECK(witnessed.status == 1);
  CHECK_THAT(witnessed.output, Catch::Contains("WITNESS FAILED at " + witness + " line 1: the log no longer extends the head "
                                               "recorded at seq 4") &&
                                   Catch::Contains("found chain"));
}

TEST_CASE("a purge receipt whose number freed is rewritten, digest and chain redone, fails verify and prove-purge",
          "[reliability][receipt]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  ledger.close();
  const auto exported = (ledger.dir() / "before-purge.jsonl").string();
  {
    auto run = audit(ledger, "export > " + quoted(exported));
    INFO(run.output);
    REQUIRE(run.status == 0);
  }
  ledger.open();
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));            // seq 4
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));  // seq 5: frees number 2
  ledger.create("Di");                                                         // seq 6: takes number 2

  // The receipt is made to say it freed number 7: its digest is a plain SHA-256, so the forger
  // sets it, then links the chain again from the purge to the head.
  testing::rewrite_and_rechain(ledger.database(), 5, [](eventstore::Envelope& e) {
    if (e.seq != 5) return;
    auto receipt = std::get<domain::CustomersPurged>(*domain::decode_event(e.payload));
    REQUIRE(receipt.numbers == std::vector<domain::CustomerNumber>{2});
    receipt.numbers[0] = 7;
    e.payload = domain::encode_event(receipt);
    e.digest = eventstore::sha256(e.payload);
  });
  ledger.close();

  auto purges = audit(ledger, "purges");
  INFO(purges.output);
  REQUIRE_THAT(purges.output, Catch::Contains("numbers freed: 7"));  // the forgery took
  auto verified = audit(ledger, "verify");
  INFO(verified.output);
  CHECK(verified.status == 1);
  CHECK_THAT(verified.output, Catch::Contains("frees number 7 for customer id 2") &&
                                  Catch::Contains("the log gives that customer number 2"));
  auto proved = audit(ledger, "prove-purge " + quoted(exported));
  INFO(proved.output);
  CHECK(proved.status == 1);
  CHECK_THAT(proved.output, Catch::Contains("does not verify at seq 5") && Catch::Contains("frees number 7"));
  auto checked = admin(ledger, "check");
  INFO(checked.output);
  CHECK(checked.status == 1);
  CHECK_THAT(checked.output, Catch::Contains("ledger FAILED at seq 5"));
}
