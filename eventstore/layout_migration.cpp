#include "eventstore/layout_migration.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/ranges.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/reader.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

// 0.1.0's families: customer id -> HMAC key (32 bytes); hashed trigram bucket ‖ id -> empty.
constexpr std::string_view kKeysFamily = "keys";
constexpr std::string_view kSearchFamily = "search";

// Present in meta once `numbers_free` rows are keyed by their last number (last -> first);
// 0.1.0 keyed them by their first (first -> last).
constexpr std::string_view kLayoutKey = "numbers_free.by_last";

// In meta once the values of a directory are known to be sealed: "compacting" from before the
// first plaintext value is sealed until the pass has compacted its old versions away, then
// "done". 0.1.0 stored payloads and states in plaintext.
constexpr std::string_view kSealedKey = "values.sealed";
constexpr std::string_view kSealedCompacting = "compacting";
constexpr std::string_view kSealedDone = "done";

void sync_write(Database& database, rocksdb::WriteBatch& batch, const std::string& what) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(database.db().Write(sync, &batch), what);
}

bool in_meta(Database& database, std::string_view key) {
  return DatabaseReader(database).get(Family::kMeta, key).has_value();
}

void put_meta(Database& database, std::string_view key, std::string_view value, const std::string& what) {
  rocksdb::WriteBatch batch;
  Database::check(batch.Put(database.family(Family::kMeta), key, value), "adding to batch");
  sync_write(database, batch, what);
}

bool has_rows(Database& database, rocksdb::ColumnFamilyHandle* family) {
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(iterate_options(), family));
  it->SeekToFirst();
  Database::check(it->status(), "reading " + family->GetName());
  return it->Valid();
}

// Step 1. The rows stay until step 3 drops the family, so a rerun finds them again and keeps
// what the store already has (a data key may have sealed values since).
std::uint64_t move_keys(Database& database, rocksdb::ColumnFamilyHandle* keys_family) {
  std::vector<std::pair<std::uint64_t, CustomerKeys>> moved;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(iterate_options(), keys_family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    CustomerKeys keys;
    if (key.size() != 8 || !digest_from(std::string_view(it->value().data(), it->value().size()), keys.hmac)) {
      throw CorruptionError("data directory " + database.dir().string() + " holds a corrupt row in `keys`");
    }
    const auto customer = get_u64(key);
    if (database.key_store().get(customer)) continue;
    keys.data = random_key();
    moved.emplace_back(customer, keys);
  }
  Database::check(it->status(), "reading keys");
  if (!moved.empty()) database.key_store().put(moved);
  return moved.size();
}

// Step 2. False when there is nothing to mark: a directory not initialized yet, whose first
// batch marks the layout.
bool rewrite_free_numbers(Database& database) {
  auto* family = database.family(Family::kNumbersFree);
  rocksdb::WriteBatch batch;
  // A cut-off rebuild replaces every row when it is run again, before anything reads them; the
  // rows it left may already be keyed by their last number.
  if (!in_meta(database, kRebuildMarkerKey)) {
    std::vector<std::pair<std::string, std::string>> intervals;  // first, last
    std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(iterate_options(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8 || it->value().size() != 8 ||
          get_u64(std::string_view(it->key().data(), 8)) > get_u64(std::string_view(it->value().data(), 8))) {
        throw CorruptionError("data directory " + database.dir().string() + " holds a corrupt free-number row");
      }
      intervals.emplace_back(it->key().ToString(), it->value().ToString());
    }
    Database::check(it->status(), "reading free numbers");
    if (intervals.empty()) return false;
    for (const auto& interval : intervals) Database::check(batch.Delete(family, interval.first), "adding to batch");
    for (const auto& [first, last] : intervals) Database::check(batch.Put(family, last, first), "adding to batch");
  }
  mark_current_layout(database, batch);
  sync_write(database, batch, "rewriting the free-number rows");
  return true;
}

// Steps 4 and 5: the values 0.1.0 stored in plaintext.
class PlaintextValues {
 public:
  PlaintextValues(Database& database, const MigrationOptions& options) : database_(database), options_(options) {}

  // Whether a customer's entry or state is stored in plaintext (stops at the first).
  bool any() {
    bool found = false;
    visit([&](Family, const std::string&, const std::string&) {
      found = true;
      return false;
    });
    return found;
  }

  // Seals each where it lies, in synced batches; counts what it sealed into `done`.
  void seal(LayoutMigration& done) {
    KeyCursor log_keys(database_.key_store()), state_keys(database_.key_store());
    visit([&](Family family, const std::string& key, const std::string& value) {
      const auto id = get_u64(key);
      if (family == Family::kLog) {
        auto entry = decode_envelope(value, id);
        const auto keys = keys_of(log_keys, entry.customer, "log entry " + std::to_string(id));
        entry.payload = eventstore::seal(keys.data, {SealedIn::kLog, entry.customer, id}, entry.payload);
        put(family, key, encode_envelope(entry));
        ++done.entries_sealed;
      } else {
        const auto keys = keys_of(state_keys, id, "the state of customer id " + std::to_string(id));
        put(family, key, eventstore::seal(keys.data, {SealedIn::kCustomers, id, 0}, value));
        ++done.states_sealed;
      }
      return true;
    });
    write();
  }

 private:
  // Calls `found(family, key, value)` for each plaintext value, log first, until it returns false.
  void visit(const std::function<bool(Family, const std::string&, const std::string&)>& found) {
    DatabaseReader reader(database_);
    EnvelopeDecoder decoder;  // no keys: payloads as stored
    for (auto family : {Family::kLog, Family::kCustomers}) {
      auto it = reader.scan(family);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (it->key().size() != 8) {
          throw CorruptionError("a key in the " + std::string(family_name(family)) + " family is not 8 bytes");
        }
        const std::string_view value(it->value().data(), it->value().size());
        const auto id = get_u64(std::string_view(it->key().data(), 8));
        bool plaintext = !is_sealed(value);  // a state
        if (family == Family::kLog) {
          const auto& entry = decoder.decode(value, id);
          plaintext = stored_sealed(entry.customer, entry.payload) && !is_sealed(entry.payload);
        }
        if (plaintext && !found(family, it->key().ToString(), std::string(value))) return;
      }
      Database::check(it->status(), "reading the values stored before sealing");
    }
  }

  static CustomerKeys keys_of(KeyCursor& cursor, std::uint64_t customer, const std::string& where) {
    auto keys = cursor.find(customer);
    if (!keys) {
      throw CorruptionError(where + " is plaintext, but customer id " + std::to_string(customer) +
                            " has no keys to seal it with");
    }
    return *keys;
  }

  void put(Family family, const std::string& key, const std::string& value) {
    Database::check(batch_.Put(database_.family(family), key, value), "adding to batch");
    if (batch_.Count() >= options_.seal_batch_rows) write();
  }

  void write() {
    if (batch_.Count() == 0) return;
    sync_write(database_, batch_, "writing sealed values");
    batch_.Clear();
    if (options_.after_step) options_.after_step(MigrationStep::kValuesSealed);
  }

  Database& database_;
  const MigrationOptions& options_;
  rocksdb::WriteBatch batch_;
};

// Step 5: false when the pass could not show every file clean (the mark stays "compacting").
bool compact_plaintext_away(Database& database, LayoutMigration& done) {
  if (!pending_erasures(DatabaseReader(database)).empty()) {
    // That pass recovers its probes from old versions before it compacts; compacting here first
    // would drop them. It compacts everything anyway, the old plaintext with it.
    spdlog::info("an erasure is pending: its pass, about to run, compacts the plaintext away");
    return true;
  }
  const auto report = run_erasure_pass(database, {}, {});
  done.compaction_ran = true;
  const bool clean = report.verified() && !PlaintextValues(database, {}).any();
  if (clean) {
    spdlog::info("the plaintext written before sealing is gone from every live file ({} files, {} bytes scanned)",
                 report.files_scanned, report.bytes_scanned);
  } else {
    spdlog::error("the plaintext written before sealing may still be on disk (stray files [{}]); the next writable "
                  "open compacts again: run `ledger-admin compact --data {}`",
                  fmt::format("{}", fmt::join(report.stray_files, ", ")), database.dir().string());
  }
  return clean;
}

void seal_values(Database& database, const MigrationOptions& options, LayoutMigration& done) {
  const auto after = [&](MigrationStep step) {
    if (options.after_step) options.after_step(step);
  };
  const auto mark = DatabaseReader(database).get(Family::kMeta, kSealedKey);
  if (mark == kSealedDone) return;
  if (!mark) {
    if (!PlaintextValues(database, options).any()) {
      put_meta(database, kSealedKey, kSealedDone, "marking the values sealed");
      return;
    }
    // Before the first batch: a crash after it must still compact, though nothing is left to seal.
    put_meta(database, kSealedKey, kSealedCompacting, "marking the values being sealed");
  }
  PlaintextValues(database, options).seal(done);
  if (done.entries_sealed + done.states_sealed != 0) {
    spdlog::info("sealed {} log payloads and {} customer states written before values were sealed; compacting the "
                 "plaintext away",
                 done.entries_sealed, done.states_sealed);
  }
  if (!compact_plaintext_away(database, done)) return;
  after(MigrationStep::kPlaintextCompacted);
  put_meta(database, kSealedKey, kSealedDone, "marking the values sealed");
}

}  // namespace

const std::vector<std::string>& earlier_layout_families() {
  static const std::vector<std::string> names = {std::string(kKeysFamily), std::string(kSearchFamily)};
  return names;
}

LayoutMigration migrate_layout(Database& database, std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> earlier,
                               const MigrationOptions& options) {
  LayoutMigration done;
  const auto after = [&](MigrationStep step) {
    if (options.after_step) options.after_step(step);
  };
  const auto keys_family = std::find_if(earlier.begin(), earlier.end(),
                                        [](const auto& handle) { return handle->GetName() == kKeysFamily; });
  if (keys_family != earlier.end()) {
    done.keys_moved = move_keys(database, keys_family->get());
    if (done.keys_moved != 0) {
      spdlog::info("moved {} customers' keys into the key store", done.keys_moved);
      after(MigrationStep::kKeysMoved);
    }
  }
  if (!in_meta(database, kLayoutKey)) {
    done.free_numbers_rewritten = rewrite_free_numbers(database);
    if (done.free_numbers_rewritten) {
      spdlog::info("rewrote the free-number rows keyed by their last number");
      after(MigrationStep::kFreeNumbersRewritten);
    }
  }
  // Dropping a family is one synced MANIFEST edit; its files go once its handle is destroyed, and
  // a crash before then finishes the drop at the next open.
  for (auto& handle : earlier) {
    const auto name = handle->GetName();
    Database::check(database.db().DropColumnFamily(handle.get()), "dropping the " + name + " family of the 0.1.0 layout");
    handle.reset();
    spdlog::info("dropped the column family '{}' of the 0.1.0 layout (its rows are no longer kept)", name);
    done.families_dropped.push_back(name);
    after(MigrationStep::kFamilyDropped);
  }
  seal_values(database, options, done);
  return done;
}

std::optional<std::string> unmigrated_layout(Database& database,
                                             const std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>>& earlier) {
  // An earlier family with no rows (a directory made by a build that created the `keys` family
  // and never wrote it) changes nothing for a reader; the next writable open drops it.
  for (const auto& handle : earlier) {
    if (has_rows(database, handle.get())) return "its `" + handle->GetName() + "` family still holds rows";
  }
  if (!in_meta(database, kLayoutKey) && has_rows(database, database.family(Family::kNumbersFree))) {
    return "its free-number rows are keyed by their first number";
  }
  const auto sealed = DatabaseReader(database).get(Family::kMeta, kSealedKey);
  if (sealed != kSealedDone && PlaintextValues(database, {}).any()) return "it holds values stored in plaintext";
  if (sealed == kSealedCompacting) return "the plaintext of values sealed by its migration may still be in its files";
  return std::nullopt;
}

void mark_current_layout(Database& database, rocksdb::WriteBatchBase& batch) {
  Database::check(batch.Put(database.family(Family::kMeta), kLayoutKey, {}), "adding to batch");
}

}  // namespace ledger::eventstore
