// LogScan hands out every entry in order across its batches, as a scan on one thread does:
// an entry larger than a batch, an early stop, and errors in the place of the entry they
// concern, also when the opening of sealed payloads is shared between its two threads.
#include "eventstore/log_scan.h"

#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

// Appends `count` entries sealed as the ledger stores them: entry i of customer
// 1 + i % customers, with a payload of sizes[i % sizes.size()] bytes.
void append(Database& db, std::uint64_t count, std::uint64_t customers, const std::vector<std::size_t>& sizes) {
  std::vector<CustomerKeys> keys(customers + 1);
  for (std::uint64_t c = 1; c <= customers; ++c) keys[c] = db.key_store().for_new_customer(c);
  LogHead head = load_head(DatabaseReader(db));
  rocksdb::WriteBatch batch;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t customer = 1 + i % customers;
    const std::string payload(sizes[i % sizes.size()], static_cast<char>('a' + i % 26));
    append_entry(db, batch, head, {static_cast<std::int64_t>(i), "clerk", "", customer, 2, payload, customer},
                 &keys[customer].hmac, &keys[customer].data);
  }
  store_head(db, batch, head);
  REQUIRE(db.db().Write(rocksdb::WriteOptions(), &batch).ok());
}

// Flips a byte of the sealed payload stored for entry `seq`.
void alter_payload(Database& db, std::uint64_t seq) {
  std::string value;
  REQUIRE(db.db().Get(rocksdb::ReadOptions(), db.family(Family::kLog), u64_key(seq), &value).ok());
  auto entry = decode_envelope(value, seq);  // no keys: as stored
  REQUIRE(is_sealed(entry.payload));
  entry.payload[kSealedOverheadBytes] ^= 1;
  REQUIRE(db.db().Put(rocksdb::WriteOptions(), db.family(Family::kLog), u64_key(seq), encode_envelope(entry)).ok());
}

// The seq of the first entry after `after` whose customer is in (or out of) the first
// `share` slices.
std::uint64_t first_in_slices(const std::vector<Envelope>& entries, std::uint64_t after, unsigned share, bool in) {
  for (const auto& e : entries) {
    if (e.seq > after && (opening_slice(e.customer) < share) == in) return e.seq;
  }
  FAIL("no such entry");
  return 0;
}

// Where a scan stopped: the last seq it handed out, and what its CorruptionError said ("" when
// it ended without one). `each` sees every entry handed out.
struct Stop {
  std::uint64_t last = 0;
  std::string error;
};
Stop scan_to_error(LogScan& scan, const std::function<void(const EnvelopeView&)>& each = {}) {
  Stop stop;
  try {
    while (const auto* e = scan.next()) {
      if (each) each(*e);
      stop.last = e->seq;
    }
  } catch (const CorruptionError& error) {
    stop.error = error.what();
  }
  return stop;
}

std::vector<Envelope> scanned_on_one_thread(const Reader& reader) {
  std::vector<Envelope> all;
  scan_entries(reader, 1, [&](const Envelope& e) {
    all.push_back(e);
    return true;
  });
  return all;
}

}  // namespace

TEST_CASE("a log scan hands out what a scan on one thread does, across batches", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  // About 6 MiB: several batches, and one entry larger than a batch.
  append(*db, 6000, 7, {1000, 10, 300});
  append(*db, 1, 7, {3 << 20});
  append(*db, 10, 7, {50});
  DatabaseReader reader(*db);
  const auto expected = scanned_on_one_thread(reader);
  REQUIRE(expected.size() == 6011);

  std::vector<Envelope> seen;
  LogScan scan(reader, 1);
  while (const auto* e = scan.next()) seen.push_back(e->copy());
  CHECK(seen == expected);
  CHECK(scan.next() == nullptr);
}

TEST_CASE("a log scan stopped early lets its thread go", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  append(*db, 20000, 7, {400});
  DatabaseReader reader(*db);
  for (std::uint64_t from : {1, 19990}) {
    LogScan scan(reader, from);
    const auto* first = scan.next();
    REQUIRE(first);
    CHECK(first->seq == from);
  }  // the destructor stops the scanning thread, which may be waiting for a free batch
}

TEST_CASE("a log scan reports an unreadable entry in its place", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  append(*db, 5000, 7, {400});
  REQUIRE(db->db().Put(rocksdb::WriteOptions(), db->family(Family::kLog), u64_key(4000), "not an envelope").ok());
  DatabaseReader reader(*db);

  LogScan scan(reader, 1);
  const auto stop = scan_to_error(scan);
  CHECK_THAT(stop.error, Catch::Contains("log entry 4000"));
  CHECK(stop.last == 3999);
  CHECK(scan.next() == nullptr);  // nothing after the entry that failed
}

TEST_CASE("a log scan shares the opening of sealed payloads and hands them out as one thread opens them",
          "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  append(*db, 30000, 700, {200, 249, 231});  // about 9 MiB: many batches
  DatabaseReader reader(*db);
  const auto expected = scanned_on_one_thread(reader);  // one decoder, one opener
  REQUIRE(expected.size() == 30000);
  REQUIRE(!is_sealed(expected.front().payload));

  std::vector<Envelope> seen;
  LogScan scan(reader, 1);
  bool split = false;
  while (const auto* e = scan.next()) {
    seen.push_back(e->copy());
    split = split || (scan.scanning_share() > 0 && scan.scanning_share() < kOpeningSlices);
    // Word-aligned, as Cap'n Proto reads a payload in place.
    CHECK(reinterpret_cast<std::uintptr_t>(e->payload.data()) % sizeof(std::uint64_t) == 0);
  }
  CHECK(split);  // both threads opened payloads in some batch
  CHECK(seen == expected);
}

TEST_CASE("a payload that does not open stops a shared scan in its place, whichever thread opens it",
          "[eventstore]") {
  // The first batch splits the customers in half (kOpeningSlices / 2 slices to each thread).
  const unsigned first_share = kOpeningSlices / 2;
  for (const bool scanning_thread : {true, false}) {
    INFO((scanning_thread ? "opened on the scanning thread" : "opened on the caller's thread"));
    {
      ledger::testing::TempDir dir;
      auto db = Database::open(dir.path(), {});
      append(*db, 3000, 50, {200, 249, 231});
      DatabaseReader reader(*db);
      const auto entries = scanned_on_one_thread(reader);
      // Two altered entries, the first in one thread's slices, the second in the other's.
      const auto bad = first_in_slices(entries, 100, first_share, scanning_thread);
      const auto later = first_in_slices(entries, bad, first_share, !scanning_thread);
      alter_payload(*db, bad);
      alter_payload(*db, later);

      LogScan scan(reader, 1);
      const auto stop =
          scan_to_error(scan, [&](const EnvelopeView& e) { CHECK(e.payload == entries[e.seq - 1].payload); });
      CHECK_THAT(stop.error, Catch::Contains("log entry " + std::to_string(bad) + " ") &&
                                 Catch::Contains("does not open under its customer's key"));
      CHECK(stop.last == bad - 1);
      CHECK(scan.next() == nullptr);  // nothing after the entry that failed
    }
  }
}

TEST_CASE("an entry whose customer has no key stops a shared scan in its place", "[eventstore]") {
  // Sealed for customers whose keys the store has never had: one per thread's half of the first
  // batch's slices.
  const std::uint64_t unknown = 1'000'000;
  std::vector<std::uint64_t> strangers;
  for (std::uint64_t c = unknown; strangers.size() < 2; ++c) {
    if ((opening_slice(c) < kOpeningSlices / 2) == strangers.empty()) strangers.push_back(c);
  }
  for (const auto stranger : strangers) {
    ledger::testing::TempDir copy_dir;
    auto copy = Database::open(copy_dir.path(), {});
    append(*copy, 2000, 40, {200, 249, 231});
    LogHead head = load_head(DatabaseReader(*copy));
    rocksdb::WriteBatch batch;
    DataKey made_up;
    made_up.fill(7);
    append_entry(*copy, batch, head, {1, "clerk", "", stranger, 2, "x", stranger}, nullptr, &made_up);
    store_head(*copy, batch, head);
    REQUIRE(copy->db().Write(rocksdb::WriteOptions(), &batch).ok());
    append(*copy, 100, 40, {200, 249, 231});  // entries after it, in the same batch

    DatabaseReader reader(*copy);
    LogScan scan(reader, 1);
    const auto stop = scan_to_error(scan);
    CHECK_THAT(stop.error, Catch::Contains("log entry 2001") && Catch::Contains("has no key"));
    CHECK(stop.last == 2000);
  }
}
