// LogScan hands out every entry in order across its batches, as a scan on one thread does:
// an entry larger than a batch, an early stop, and errors in the place of the entry they
// concern.
#include "eventstore/log_scan.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

// Appends `count` entries of customers 1-7, entry i with a payload of sizes[i % sizes.size()]
// bytes, sealed as the ledger stores it.
void append(Database& db, std::uint64_t count, const std::vector<std::size_t>& sizes) {
  LogHead head = load_head(DatabaseReader(db));
  rocksdb::WriteBatch batch;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string payload(sizes[i % sizes.size()], static_cast<char>('a' + i % 26));
    const std::uint64_t customer = 1 + i % 7;
    const auto keys = db.key_store().for_new_customer(customer);
    append_entry(db, batch, head, {static_cast<std::int64_t>(i), "clerk", "", customer, 2, payload, customer}, &keys.hmac,
                 &keys.data);
  }
  store_head(db, batch, head);
  REQUIRE(db.db().Write(rocksdb::WriteOptions(), &batch).ok());
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
  append(*db, 6000, {1000, 10, 300});
  append(*db, 1, {3 << 20});
  append(*db, 10, {50});
  DatabaseReader reader(*db);
  const auto expected = scanned_on_one_thread(reader);
  REQUIRE(expected.size() == 6011);

  std::vector<Envelope> seen;
  LogScan scan(reader, 1);
  while (const auto* e = scan.next()) seen.push_back(e->copy());
  CHECK(seen == expected);
  CHECK(scan.next() == nullptr);

  std::vector<std::uint64_t> prepared_seqs;
  std::uint64_t expected_seq = 1;
  BasicLogScan<std::uint64_t> prepared(reader, 1, [&](const EnvelopeView& e, std::uint64_t& out) {
    prepared_seqs.push_back(e.seq);  // on the scanning thread, in order
    out = e.seq * 2;
  });
  while (auto item = prepared.next()) {
    REQUIRE(item->entry.seq == expected_seq);
    CHECK(item->prepared == expected_seq * 2);
    CHECK(item->entry.payload == expected[expected_seq - 1].payload);
    ++expected_seq;
  }
  CHECK(expected_seq == 6012);
  CHECK(prepared_seqs.size() == 6011);
}

TEST_CASE("a log scan stopped early lets its thread go", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  append(*db, 20000, {400});
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
  append(*db, 5000, {400});
  REQUIRE(db->db().Put(rocksdb::WriteOptions(), db->family(Family::kLog), u64_key(4000), "not an envelope").ok());
  DatabaseReader reader(*db);

  std::uint64_t last = 0;
  LogScan scan(reader, 1);
  try {
    while (const auto* e = scan.next()) last = e->seq;
    FAIL("no error");
  } catch (const CorruptionError& error) {
    CHECK_THAT(error.what(), Catch::Contains("log entry 4000"));
  }
  CHECK(last == 3999);

  last = 0;
  BasicLogScan<int> prepared(reader, 1, [](const EnvelopeView& e, int&) {
    if (e.seq == 1234) throw std::runtime_error("prepare refused 1234");
  });
  try {
    while (auto item = prepared.next()) last = item->entry.seq;
    FAIL("no error");
  } catch (const std::runtime_error& error) {
    CHECK_THAT(error.what(), Catch::Contains("refused 1234"));
  }
  CHECK(last == 1233);
}
