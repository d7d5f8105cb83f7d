// Personal values reach the disk only sealed under their customer's key (docs/storage.md,
// "Sealed values"): a value moved between entries, customers or families, altered, or opened
// with another key fails loudly naming where it lies; destroying a customer's keys makes every
// copy unreadable, including a copy of the data taken before the cleanup.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"
#include "projections/customer_codec.h"
#include "projections/queries.h"
#include "projections/verify.h"
#include "server/open_ledger.h"
#include "support/layout_0_1_0.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::person;
using ledger::testing::put_raw;
using eventstore::Family;

namespace {

eventstore::DataKey key_of(std::uint8_t fill) {
  eventstore::DataKey key;
  key.fill(fill);
  return key;
}

std::string raw(eventstore::Database& db, Family family, const std::string& key) {
  std::string value;
  REQUIRE(db.db().Get(rocksdb::ReadOptions(), db.family(family), key, &value).ok());
  return value;
}

// Every byte of every file under `dir`.
std::string all_bytes(const std::filesystem::path& dir) {
  std::string out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

}  // namespace

TEST_CASE("a sealed value opens only where it was sealed, unaltered, under its key", "[sealing]") {
  const auto key = key_of(7);
  const eventstore::SealPlace place{eventstore::SealedIn::kLog, 42, 8};
  const std::string plain = "Ada Lovelace, ada@analytical.org";
  const auto sealed = eventstore::seal(key, place, plain);
  CHECK(eventstore::is_sealed(sealed));
  CHECK(sealed.size() == plain.size() + eventstore::kSealedOverheadBytes);
  CHECK(sealed.substr(0, eventstore::kSealedHeaderBytes) == eventstore::sealed_header(42));
  CHECK(sealed.find("Ada") == std::string::npos);
  // A fresh nonce each time: the same value sealed twice differs.
  CHECK(eventstore::seal(key, place, plain) != sealed);

  std::string opened;
  eventstore::open_sealed(key, place, sealed, opened);
  CHECK(opened == plain);

  const auto fails = [&](const eventstore::DataKey& k, const eventstore::SealPlace& p, const std::string& bytes,
                         const std::string& named) {
    std::string out;
    CHECK_THROWS_WITH(eventstore::open_sealed(k, p, bytes, out), Catch::Contains(named));
  };
  fails(key, {eventstore::SealedIn::kLog, 42, 9}, sealed, "log entry 9 (customer id 42) does not open");
  fails(key, {eventstore::SealedIn::kCustomers, 42, 0}, sealed, "the state of customer id 42 does not open");
  fails(key, {eventstore::SealedIn::kLog, 43, 8}, sealed, "log entry 8 (customer id 43) is sealed for another customer");
  fails(key_of(8), place, sealed, "log entry 8 (customer id 42) does not open");
  auto altered = sealed;
  altered[eventstore::kSealedHeaderBytes + 12 + 3] ^= 1;
  fails(key, place, altered, "log entry 8 (customer id 42) does not open");
  fails(key, place, plain, "log entry 8 (customer id 42) is not a sealed value");
}

TEST_CASE("a customer's entries and state are stored sealed, and read back as they were written", "[sealing]") {
  Ledger ledger;
  const auto ada = ledger.create("Ada Lovelace");
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@analytical.org"}}, {}}));
  auto& db = ledger.database();

  for (std::uint64_t seq : {1, 2}) {
    const auto row = raw(db, Family::kLog, eventstore::u64_key(seq));
    auto envelope = eventstore::decode_envelope(row, seq);
    CHECK(eventstore::is_sealed(envelope.payload));
    CHECK(row.find("Ada") == std::string::npos);
    CHECK(row.find("analytical") == std::string::npos);
  }
  const auto state = raw(db, Family::kCustomers, eventstore::u64_key(ada.id));
  CHECK(eventstore::is_sealed(state));
  CHECK(state.find("Ada") == std::string::npos);

  // Read back through the ledger: plaintext, and the log verifies (digests are of the plaintext).
  CHECK(ledger.service().customer(1)->fields.email == "ada@analytical.org");
  const auto history = ledger.service().history(1);
  REQUIRE(history.size() == 2);
  CHECK(std::get<domain::CustomerCreated>(history[0].event).fields.name == "Ada Lovelace");
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(db));
  INFO(report.problem);
  CHECK(report.ok);

  // Not in any file of the directory either, WAL and key store included.
  ledger.close();
  const auto bytes = all_bytes(ledger.dir());
  CHECK(bytes.find("Ada Lovelace") == std::string::npos);
  CHECK(bytes.find("analytical") == std::string::npos);
}

TEST_CASE("a sealed payload moved to another entry fails loudly, naming the entry", "[sealing]") {
  Ledger ledger;
  ledger.create("Ada");
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kNotes, "pays late"}}, {}}));
  auto& db = ledger.database();
  // Entry 1's sealed payload copied into entry 2's envelope, as someone with the files could.
  auto first = eventstore::decode_envelope(raw(db, Family::kLog, eventstore::u64_key(1)), 1);
  auto second = eventstore::decode_envelope(raw(db, Family::kLog, eventstore::u64_key(2)), 2);
  second.payload = first.payload;
  put_raw(db, Family::kLog, eventstore::u64_key(2), eventstore::encode_envelope(second));

  const eventstore::DatabaseReader reader(db);
  CHECK_THROWS_WITH(eventstore::read_entry(reader, 2), Catch::Contains("log entry 2 (customer id 1) does not open"));
  CHECK_NOTHROW(eventstore::read_entry(reader, 1));
  const auto report = projections::verify_ledger(reader);
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.problem, Catch::Contains("log entry 2 (customer id 1) does not open"));

  // A state moved to another customer does not open either.
  ledger.create("Bo");
  put_raw(db, Family::kCustomers, eventstore::u64_key(2), raw(db, Family::kCustomers, eventstore::u64_key(1)));
  CHECK_THROWS_WITH(projections::customer_by_id(reader, 2),
                    Catch::Contains("the state of customer id 2 is sealed for another customer"));
}

TEST_CASE("cleanup destroys the purged customers' keys: a copy of the data taken before is unreadable for them only",
          "[sealing][erasure]") {
  Ledger ledger;
  ledger.create("Ada Keeper");
  ledger.create("Bo Purged");
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  // A copy of the data (not the key store) taken before the cleanup, as a backup would be.
  ledger.close();
  const auto copy = ledger.dir() / "copy";
  std::filesystem::create_directories(copy);
  for (const auto& entry : std::filesystem::directory_iterator(ledger.dir() / "data")) {
    if (entry.is_regular_file() && entry.path().filename() != "LOCK") {
      std::filesystem::copy_file(entry.path(), copy / entry.path().filename());
    }
  }
  ledger.open();
  const auto keys_before = ledger.database().key_store().get(2);
  REQUIRE(keys_before);

  const auto purge = accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));
  const auto report = ledger.service().wait_for_erasure(purge.seqs.front(), std::chrono::seconds(60));
  REQUIRE(report);
  CHECK_THAT(eventstore::to_json(*report), Catch::Contains("\"unreadable\":{\"verified\":true") &&
                          Catch::Contains("\"keys_deleted\":1,\"keys_probed\":1,"));
  CHECK_FALSE(ledger.database().key_store().get(2));
  CHECK(ledger.database().key_store().get(1));
  // No byte of Bo's keys is left in any file of the data directory.
  ledger.close();
  const auto bytes = all_bytes(ledger.dir() / "data");
  const std::string data_key(reinterpret_cast<const char*>(keys_before->data.data()), 32);
  const std::string hmac_key(reinterpret_cast<const char*>(keys_before->hmac.data()), 32);
  CHECK(bytes.find(data_key) == std::string::npos);
  CHECK(bytes.find(hmac_key) == std::string::npos);

  // The old copy, next to today's key store: Ada opens, Bo's entries and state do not.
  std::filesystem::copy(ledger.dir() / "data" / "keystore", copy / "keystore", std::filesystem::copy_options::recursive);
  std::filesystem::remove(copy / "keystore" / "LOCK");
  eventstore::OpenOptions read_only;
  read_only.read_only = true;
  auto old = eventstore::Database::open(copy, read_only);
  const eventstore::DatabaseReader reader(*old);
  CHECK(projections::customer_by_id(reader, 1)->fields.name == "Ada Keeper");
  CHECK_THROWS_WITH(projections::customer_by_id(reader, 2), Catch::Contains("the customer has no key"));
  CHECK_THROWS_WITH(eventstore::read_entry(reader, 2), Catch::Contains("log entry 2 (customer id 2) is sealed, but its customer has no key"));
}

TEST_CASE("the key destruction reports the key store files a reader still pins, and succeeds once none does",
          "[sealing][erasure]") {
  Ledger ledger;
  ledger.create("Ada");
  ledger.create("Bo");
  auto& keys = ledger.database().key_store();
  // The keys on disk in an SST file (destroying an absent key flushes and compacts the store),
  // which an iterator then pins.
  REQUIRE(keys.get(1));
  REQUIRE(keys.shred({999'999}).verified());
  {
    auto pin = keys.scan();
    pin->SeekToFirst();
    REQUIRE(pin->Valid());
    const auto pinned = keys.shred({1}, std::chrono::milliseconds(0));
    CHECK(pinned.keys_deleted == 1);
    CHECK(pinned.keys_probed == 1);
    // The compaction rewrote the SST file without Ada's keys, but the old one stays while pinned.
    REQUIRE_FALSE(pinned.residue_files.empty());
    CHECK_FALSE(pinned.verified());
    for (const auto& file : pinned.residue_files) CHECK_THAT(file, Catch::StartsWith("keystore/") && Catch::EndsWith(".sst"));
  }
  // Nothing pins now: the next destruction leaves no byte behind and says so.
  const auto bo = *keys.get(2);
  const auto done = keys.shred({2});
  CHECK(done.verified());
  CHECK(done.keys_probed == 1);
  CHECK_FALSE(keys.get(2));
  ledger.close();
  const auto bytes = all_bytes(ledger.dir() / "data" / "keystore");
  CHECK(bytes.find(std::string(reinterpret_cast<const char*>(bo.data.data()), 32)) == std::string::npos);
}

TEST_CASE("a directory written before sealing is sealed at open, and its plaintext compacted out of every file",
          "[sealing][migration]") {
  Ledger ledger;
  ledger.create("Ada Oldvalue");
  ledger.create("Bo Oldvalue");
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@oldvalue.example"}}, {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  ledger.close();
  const auto data = ledger.dir() / "data";
  // The layout before sealing: plaintext payloads and states, HMAC keys in `keys`, no key store.
  testing::rewrite_in_layout_0_1_0(data);
  REQUIRE(all_bytes(data).find("ada@oldvalue.example") != std::string::npos);

  // Stopped after its first synced batch of 2 values, as by a crash: the rest stays plaintext.
  eventstore::OpenOptions stop_early;
  stop_early.migration.seal_batch_rows = 2;
  stop_early.migration.after_step = [](eventstore::MigrationStep step) {
    if (step == eventstore::MigrationStep::kValuesSealed) throw std::runtime_error("stopped");
  };
  CHECK_THROWS_WITH(eventstore::Database::open(data, stop_early), "stopped");
  testing::change_families(data, [](rocksdb::DB& db, const testing::FamilyByName& family) {
    const auto payload = [&](std::uint64_t seq) {
      std::string value;
      REQUIRE(db.Get(rocksdb::ReadOptions(), family("log"), eventstore::u64_key(seq), &value).ok());
      return eventstore::decode_envelope(value, seq).payload;
    };
    CHECK(eventstore::is_sealed(payload(2)));
    CHECK_FALSE(eventstore::is_sealed(payload(3)));
  });
  // Until the migration has finished, the directory is not one to read.
  eventstore::OpenOptions read_only;
  read_only.read_only = true;
  CHECK_THROWS_WITH(eventstore::Database::open(data, read_only),
                    Catch::Contains("layout of ledger 0.1.0") && Catch::Contains("values stored in plaintext"));

  ledger.open();  // the migration seals the rest and compacts the plaintext away
  auto& db = ledger.database();
  for (std::uint64_t seq = 1; seq <= 4; ++seq) {
    CHECK(eventstore::is_sealed(eventstore::decode_envelope(raw(db, Family::kLog, eventstore::u64_key(seq)), seq).payload));
  }
  for (std::uint64_t id : {1, 2}) CHECK(eventstore::is_sealed(raw(db, Family::kCustomers, eventstore::u64_key(id))));
  CHECK(ledger.service().customer(1)->fields.email == "ada@oldvalue.example");
  CHECK(ledger.service().history(1).size() == 2);
  // The digests are of the plaintext, so the chain and every digest still verify.
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(db));
  INFO(report.problem);
  CHECK(report.ok);

  ledger.close();
  const auto bytes = all_bytes(data);
  CHECK(bytes.find("ada@oldvalue.example") == std::string::npos);
  CHECK(bytes.find("Oldvalue") == std::string::npos);
  // Nothing is left to seal: the next open seals and compacts nothing.
  bool stepped = false;
  eventstore::OpenOptions watch;
  watch.migration.after_step = [&](eventstore::MigrationStep) { stepped = true; };
  eventstore::Database::open(data, watch);
  CHECK_FALSE(stepped);
}

TEST_CASE("a plaintext value where the ledger stores a sealed one is refused by every reader, naming where it lies",
          "[sealing]") {
  Ledger ledger;
  ledger.create("Ada Lovelace");
  auto& db = ledger.database();
  const eventstore::DatabaseReader reader(db);
  // Entry 1 and Ada's state put back in plaintext, as only tampering (or a migration skipped)
  // could leave them.
  put_raw(db, Family::kLog, eventstore::u64_key(1), eventstore::encode_envelope(*eventstore::read_entry(reader, 1)));
  put_raw(db, Family::kCustomers, eventstore::u64_key(1),
          projections::encode_customer(*projections::customer_by_id(reader, 1)));
  CHECK_THROWS_WITH(eventstore::read_entry(reader, 1), Catch::Contains("log entry 1 (customer id 1) is not a sealed value"));
  CHECK_THROWS_WITH(projections::customer_by_id(reader, 1),
                    Catch::Contains("the state of customer id 1 is not a sealed value"));
  const auto report = projections::verify_ledger(reader);
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.problem, Catch::Contains("is not a sealed value"));
}
