#include "eventstore/seal_existing.h"

#include <rocksdb/write_batch.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/reader.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

constexpr std::uint16_t kPurgeKind = 5;

class SyncedBatches {
 public:
  SyncedBatches(Database& database, const SealOptions& options) : database_(database), options_(options) {}
  void put(Family family, const std::string& key, const std::string& value) {
    Database::check(batch_.Put(database_.family(family), key, value), "adding to batch");
    if (batch_.Count() >= options_.batch_rows) write();
  }
  void write() {
    if (batch_.Count() == 0) return;
    rocksdb::WriteOptions sync;
    sync.sync = true;
    Database::check(database_.db().Write(sync, &batch_), "writing sealed values");
    batch_.Clear();
    if (options_.after_batch) options_.after_batch();
  }

 private:
  Database& database_;
  const SealOptions& options_;
  rocksdb::WriteBatch batch_;
};

std::optional<CustomerKeys> keys_of(KeyCursor& cursor, std::uint64_t customer, const std::string& where) {
  auto keys = cursor.find(customer);
  if (!keys) throw CorruptionError(where + " is plaintext, but customer id " + std::to_string(customer) + " has no keys to seal it with");
  return keys;
}

// Seals (or, with `count_only`, counts) the plaintext values of both families.
SealedExisting seal_or_count(Database& database, bool count_only, const SealOptions& options) {
  SealedExisting result;
  DatabaseReader reader(database);
  SyncedBatches batches(database, options);
  {
    // The log in seq order; customers' keys through a cursor that seeks when ids go back.
    KeyCursor keys(database.key_store());
    auto it = reader.scan(Family::kLog);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) throw CorruptionError("a log key is not 8 bytes");
      const auto seq = get_u64(std::string_view(it->key().data(), 8));
      auto entry = decode_envelope(std::string_view(it->value().data(), it->value().size()), seq);
      if (entry.customer == 0 || entry.kind == kPurgeKind || entry.redacted() || entry.payload.empty() ||
          is_sealed(entry.payload)) {
        continue;
      }
      ++result.entries;
      if (count_only) continue;
      const auto k = keys_of(keys, entry.customer, "log entry " + std::to_string(seq));
      entry.payload = seal(k->data, {SealedIn::kLog, entry.customer, seq}, entry.payload);
      batches.put(Family::kLog, u64_key(seq), encode_envelope(entry));
    }
    Database::check(it->status(), "reading the log");
  }
  {
    KeyCursor keys(database.key_store());
    auto it = reader.scan(Family::kCustomers);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) throw CorruptionError("a customers row key is corrupt");
      const std::string_view value(it->value().data(), it->value().size());
      if (is_sealed(value)) continue;
      ++result.states;
      if (count_only) continue;
      const auto id = get_u64(std::string_view(it->key().data(), 8));
      const auto k = keys_of(keys, id, "the state of customer id " + std::to_string(id));
      batches.put(Family::kCustomers, u64_key(id), seal(k->data, {SealedIn::kCustomers, id, 0}, value));
    }
    Database::check(it->status(), "reading customers");
  }
  batches.write();
  return result;
}

}  // namespace

SealedExisting seal_existing_values(Database& database, const SealOptions& options) {
  auto result = seal_or_count(database, false, options);
  if (!result.sealed_anything()) return result;
  spdlog::info("sealed {} log payloads and {} customer states written before values were sealed; compacting the "
               "plaintext away",
               result.entries, result.states);
  if (!pending_erasures(DatabaseReader(database)).empty()) {
    // That pass recovers its probes from old versions before it compacts; compacting here first
    // would drop them. It compacts everything anyway, the old plaintext with it.
    spdlog::info("an erasure is pending: its pass, about to run, compacts the plaintext away");
    return result;
  }
  result.compaction = run_erasure_pass(database, {}, {});
  const auto left = seal_or_count(database, true, options);
  result.left = left.entries + left.states;
  if (result.compaction.verified() && result.left == 0) {
    spdlog::info("the plaintext written before sealing is gone from every live file ({} files, {} bytes scanned)",
                 result.compaction.files_scanned, result.compaction.bytes_scanned);
  } else {
    spdlog::error("the plaintext written before sealing may still be on disk: {} plaintext values left, stray files "
                  "[{}]; run `ledger-admin compact` and check again",
                  result.left, fmt::format("{}", fmt::join(result.compaction.stray_files, ", ")));
  }
  return result;
}

}  // namespace ledger::eventstore
