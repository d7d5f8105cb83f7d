// The log's byte-level contracts: envelopes round-trip, corrupt bytes are errors naming the
// seq, the hashes give the standard answers, the chain links entries, and the Merkle root
// commits to its leaves.
#include <random>
#include <set>

#include <catch2/catch.hpp>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

// An envelope with every field set; `payload` as given.
Envelope sample_envelope(std::string payload) {
  Envelope e;
  e.seq = 42;
  e.at_us = 1'700'000'000'000'000;
  e.actor = "clerk-1";
  e.request = "req";
  e.customer = 7;
  e.kind = 2;
  e.payload = std::move(payload);
  e.digest = sha256("x");
  e.chain = sha256("y");
  return e;
}

}  // namespace

TEST_CASE("envelopes round-trip and corrupt bytes are an error naming the seq", "[eventstore]") {
  const auto e = sample_envelope(std::string("\x01\x02\x03", 3));
  const auto bytes = encode_envelope(e);
  CHECK(decode_envelope(bytes, 42) == e);

  // Unaligned input is read correctly (values from RocksDB often are), small ones copied to the
  // stack and larger ones to the heap; aligned input is read in place.
  std::string shifted = " " + bytes;
  CHECK(decode_envelope(std::string_view(shifted).substr(1), 42) == e);
  auto large = e;
  large.payload.assign(4000, 'p');
  const std::string large_shifted = " " + encode_envelope(large);
  CHECK(decode_envelope(std::string_view(large_shifted).substr(1), 42) == large);

  CHECK_THROWS_WITH(decode_envelope(bytes, 43), Catch::Contains("log entry 43"));
  CHECK_THROWS_AS(decode_envelope(bytes.substr(0, bytes.size() - 8), 42), CorruptionError);
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string noise(8 * (1 + random() % 16), '\0');
    for (auto& c : noise) c = static_cast<char>(random());
    try {
      decode_envelope(noise, 1);
    } catch (const CorruptionError& error) {
      CHECK_THAT(error.what(), Catch::Contains("log entry 1"));
    }
  }
}

TEST_CASE("an envelope read in place holds what decode_envelope gives, aligned or not", "[eventstore]") {
  auto e = sample_envelope(std::string(40, 'p'));
  e.number = 9;
  const auto bytes = encode_envelope(e);
  EnvelopeDecoder decoder;
  const auto& aligned = decoder.decode(bytes, 42);
  CHECK(aligned.copy() == e);
  // Read where it lies: the strings view the bytes given.
  CHECK(aligned.payload.data() >= bytes.data());
  CHECK(aligned.payload.data() < bytes.data() + bytes.size());
  for (std::size_t offset = 1; offset < 8; ++offset) {
    CAPTURE(offset);
    const std::string shifted = std::string(offset, ' ') + bytes;
    const auto& view = decoder.decode(std::string_view(shifted).substr(offset), 42);
    CHECK(view.copy() == e);
    // Copied to a word-aligned buffer, so that an event payload can be read in place.
    CHECK(reinterpret_cast<std::uintptr_t>(view.payload.data()) % 8 == 0);
    CHECK(chain_link(sha256("z"), view) == chain_link(sha256("z"), e));
  }
  CHECK_THROWS_WITH(decoder.decode(bytes, 43), Catch::Contains("log entry 43"));
  CHECK_THROWS_AS(decoder.decode(bytes.substr(0, bytes.size() - 8), 42), CorruptionError);
}

TEST_CASE("a reused SHA-256 context gives what the one-shot hashes give", "[eventstore]") {
  Sha256 hash;
  StreamKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 13 + 5);
  for (const std::string& input : {std::string(), std::string("p"), std::string(63, 'a'), std::string(64, 'b'),
                                  std::string(1000, 'c')}) {
    CAPTURE(input.size());
    CHECK(hash.of(input) == sha256(input));
    CHECK(hash.hmac(key, input) == hmac_sha256(key, input));
    CHECK(hash.chain_link(sha256("prev"), 5, -7, 2, 9, input, sha256("d")) ==
          chain_link(sha256("prev"), 5, -7, 2, 9, input, sha256("d")));
    CHECK(hash.chain_link(sha256("prev"), 5, 7, 2, 9, input, sha256("d"), 123) ==
          chain_link(sha256("prev"), 5, 7, 2, 9, input, sha256("d"), 123));
    CHECK(as_bytes(request_row_key(hash, "clerk", input)) == request_row_key("clerk", input));
  }
  hash.add("ab");
  hash.add("c");
  CHECK(hash.finish() == sha256("abc"));
}

TEST_CASE("appended entries chain to each other and survive a reopen", "[eventstore]") {
  ledger::testing::TempDir dir;
  LogHead head;
  {
    auto db = Database::open(dir.path(), {});
    rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, true);
    const auto keys = db->key_store().for_new_customer(9);
    auto first = append_entry(*db, batch, head, {1, "a", "", 9, 1, "p1"}, &keys.hmac, &keys.data);
    auto second = append_entry(*db, batch, head, {2, "a", "", 9, 2, "p2"}, &keys.hmac, &keys.data);
    CHECK(first.seq == 1);
    CHECK(second.seq == 2);
    CHECK(first.digest == hmac_sha256(keys.hmac, "p1"));
    CHECK(second.chain == chain_link(first.chain, 2, 2, 2, 9, "a", second.digest));
    store_head(*db, batch, head);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    REQUIRE(db->db().Write(sync, batch.GetWriteBatch()).ok());
  }
  auto db = Database::open(dir.path(), {});
  DatabaseReader reader(*db);
  CHECK(load_head(reader) == head);
  CHECK(stream_seqs(reader, 9) == std::vector<std::uint64_t>{1, 2});
  CHECK(read_entry(reader, 2)->payload == "p2");
}

TEST_CASE("SHA-256 and HMAC-SHA256 give the standard answers, call after call", "[eventstore]") {
  // The contexts each thread keeps between calls must not carry anything from one to the next.
  StreamKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  for (int call = 0; call < 3; ++call) {
    CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(hmac_sha256(key, "The quick brown fox jumps over the lazy dog")) ==
          "f87ad256151fc7b4c5dffa4adb3ebe911a8eeb8a8ebdee3c2a4a8e5f5ec02c32");
    CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

TEST_CASE("random keys are all different, across refills of a writer's block", "[eventstore]") {
  RandomKeys keys;
  std::set<StreamKey> seen;
  for (int i = 0; i < 1000; ++i) {  // the block holds 128
    const auto key = keys.next();
    CHECK(key != StreamKey{});
    CHECK(seen.insert(key).second);
  }
  CHECK(seen.insert(random_key()).second);
}

TEST_CASE("the Merkle root commits to every leaf and their order", "[eventstore]") {
  std::vector<Digest> leaves = {sha256("a"), sha256("b"), sha256("c")};
  const auto root = merkle_root(leaves);
  CHECK(root != Digest{});
  CHECK(merkle_root({}) == Digest{});
  auto swapped = leaves;
  std::swap(swapped[0], swapped[1]);
  CHECK(merkle_root(swapped) != root);
  auto fewer = leaves;
  fewer.pop_back();
  CHECK(merkle_root(fewer) != root);
}

TEST_CASE("a second process cannot open a data directory in use", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  CHECK_THROWS_WITH(Database::open(dir.path(), {}), Catch::Contains("in use"));
}

TEST_CASE("automatic compactions wait while an erasure is pending, until the pass releases them", "[eventstore]") {
  ledger::testing::TempDir dir;
  const auto automatic = [](Database& db) {
    bool all = true;
    for (auto* family : db.all_families()) all = all && !db.db().GetOptions(family).disable_auto_compactions;
    return all;
  };
  {
    auto db = Database::open(dir.path(), {});
    CHECK_FALSE(db->compactions_held());
    CHECK(automatic(*db));
    rocksdb::WriteBatch batch;
    record_pending_erasure(*db, batch, 9, {});
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), &batch).ok());
  }
  auto db = Database::open(dir.path(), {});
  CHECK(db->compactions_held());
  CHECK_FALSE(automatic(*db));
  db->release_compactions();
  CHECK_FALSE(db->compactions_held());
  CHECK(automatic(*db));
  db->release_compactions();  // idempotent
  CHECK(automatic(*db));
}

TEST_CASE("a scan of the log leaves the block cache as it was", "[eventstore]") {
  ledger::testing::TempDir dir;
  auto db = Database::open(dir.path(), {});
  constexpr int kEntries = 4000;
  {
    // About 4 MB of incompressible payloads, flushed into an SST file.
    rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, true);
    LogHead head;
    const auto keys = db->key_store().for_new_customer(1);
    std::mt19937_64 random(11);
    for (int i = 1; i <= kEntries; ++i) {
      std::string payload(1024, '\0');
      for (auto& c : payload) c = static_cast<char>(random());
      append_entry(*db, batch, head, {static_cast<std::int64_t>(i), "a", "", 1, 1, payload}, &keys.hmac, &keys.data);
    }
    REQUIRE(db->db().Write(rocksdb::WriteOptions(), batch.GetWriteBatch()).ok());
    REQUIRE(db->db().Flush(rocksdb::FlushOptions(), db->family(Family::kLog)).ok());
  }
  auto cache_bytes = [&db] {
    std::uint64_t bytes = 0;
    REQUIRE(db->db().GetIntProperty(db->family(Family::kLog), rocksdb::DB::Properties::kBlockCacheUsage, &bytes));
    return bytes;
  };
  DatabaseReader reader(*db);
  const auto before = cache_bytes();
  int seen = 0;
  scan_entries(reader, 1, [&seen](const Envelope&) { return ++seen, true; });
  CHECK(seen == kEntries);
  const auto after_scan = cache_bytes();
  CHECK(after_scan - before < 256 * 1024);

  // A plain iterator over the same rows does fill it: the measure can see the difference.
  auto it = reader.iterate(Family::kLog);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  REQUIRE(it->status().ok());
  CHECK(cache_bytes() - after_scan > 2 * 1024 * 1024);
}
