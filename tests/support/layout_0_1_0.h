// A data directory as ledger 0.1.0 wrote it, made from one the current code wrote: what the
// migration at open (eventstore/layout_migration.h) must bring to the current layout. For tests
// only.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/projector.h"
#include "projections/queries.h"

namespace ledger::testing {

// The column families a data directory has.
inline std::vector<std::string> families_of(const std::filesystem::path& data) {
  std::vector<std::string> families;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data.string(), &families).ok());
  return families;
}

inline bool has_family(const std::filesystem::path& data, const std::string& name) {
  const auto families = families_of(data);
  return std::find(families.begin(), families.end(), name) != families.end();
}

// The handle of a family by name, created when the directory does not have it.
using FamilyByName = std::function<rocksdb::ColumnFamilyHandle*(const std::string&)>;

// Opens `data` (no process has it open) with plain RocksDB and every family it has, hands
// `change` the database and a FamilyByName, and closes it: for making the directories earlier
// versions left.
inline void change_families(const std::filesystem::path& data,
                            const std::function<void(rocksdb::DB&, const FamilyByName&)>& change) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families_of(data)) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), data.string(), descriptors, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  const FamilyByName family = [&](const std::string& name) {
    for (auto* handle : handles) {
      if (handle->GetName() == name) return handle;
    }
    rocksdb::ColumnFamilyHandle* created = nullptr;
    REQUIRE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &created).ok());
    handles.push_back(created);
    return created;
  };
  change(*db, family);
  for (auto* handle : handles) REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
  REQUIRE(db->Close().ok());
}

// Rewrites `data` (no process has it open) in 0.1.0's layout: every payload and state in
// plaintext; each customer's HMAC key a row of a `keys` family, and no key store;
// `numbers_free` rows keyed by their first number (first -> last) and no layout marks in meta;
// a `search` family with one hashed trigram row.
inline void rewrite_in_layout_0_1_0(const std::filesystem::path& data) {
  std::vector<std::pair<std::string, std::string>> plaintext_entries, plaintext_states, keys;
  std::vector<projections::NumberInterval> free;
  {
    auto db = eventstore::Database::open(data, {});
    const eventstore::DatabaseReader reader(*db);
    const auto head = eventstore::load_head(reader);
    for (std::uint64_t seq = 1; seq < head.next_seq; ++seq) {
      plaintext_entries.emplace_back(eventstore::u64_key(seq), eventstore::encode_envelope(*eventstore::read_entry(reader, seq)));
    }
    const auto next_id = projections::load_next_customer_id(reader);
    for (domain::CustomerId id = 1; id < next_id; ++id) {
      if (auto customer = projections::customer_by_id(reader, id)) {
        plaintext_states.emplace_back(eventstore::u64_key(id), projections::encode_customer(*customer));
      }
      // Purged customers' keys are gone, as 0.1.0's purge deleted their rows.
      if (auto customer_keys = db->key_store().get(id)) {
        keys.emplace_back(eventstore::u64_key(id), std::string(eventstore::as_bytes(customer_keys->hmac)));
      }
    }
    free = projections::FreeNumbers::all(reader);
  }
  change_families(data, [&](rocksdb::DB& db, const FamilyByName& family) {
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : plaintext_entries) REQUIRE(batch.Put(family("log"), key, value).ok());
    for (const auto& [key, value] : plaintext_states) REQUIRE(batch.Put(family("customers"), key, value).ok());
    for (const auto& [key, value] : keys) REQUIRE(batch.Put(family("keys"), key, value).ok());
    for (const auto& interval : free) {
      REQUIRE(batch.Delete(family("numbers_free"), eventstore::u64_key(interval.last)).ok());
    }
    for (const auto& interval : free) {
      REQUIRE(batch.Put(family("numbers_free"), eventstore::u64_key(interval.first), eventstore::u64_key(interval.last)).ok());
    }
    REQUIRE(batch.Delete(family("meta"), "numbers_free.by_last").ok());
    REQUIRE(batch.Delete(family("meta"), "values.sealed").ok());
    REQUIRE(batch.Put(family("search"), std::string("\x07\x22\0\0\0\0\0\0\0\x01", 10), "").ok());
    rocksdb::WriteOptions sync;
    sync.sync = true;
    // Left in the WAL, uncompressed: tests search the files for the plaintext.
    REQUIRE(db.Write(sync, &batch).ok());
  });
  std::filesystem::remove_all(data / eventstore::KeyStore::kDirectory);
}

}  // namespace ledger::testing
