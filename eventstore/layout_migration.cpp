#include "eventstore/layout_migration.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"

namespace ledger::eventstore {
namespace {

// 0.1.0's families: customer id -> HMAC key (32 bytes); hashed trigram bucket ‖ id -> empty.
constexpr std::string_view kKeysFamily = "keys";
constexpr std::string_view kSearchFamily = "search";

// Present in meta once `numbers_free` rows are keyed by their last number (last -> first);
// 0.1.0 keyed them by their first (first -> last).
constexpr std::string_view kLayoutKey = "numbers_free.by_last";

void sync_write(Database& database, rocksdb::WriteBatch& batch, const std::string& what) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(database.db().Write(sync, &batch), what);
}

bool in_meta(Database& database, std::string_view key) {
  return DatabaseReader(database).get(Family::kMeta, key).has_value();
}

bool has_rows(Database& database, rocksdb::ColumnFamilyHandle* family) {
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(rocksdb::ReadOptions(), family));
  it->SeekToFirst();
  Database::check(it->status(), "reading " + family->GetName());
  return it->Valid();
}

// Step 1. The rows stay until step 3 drops the family, so a rerun finds them again and keeps
// what the store already has (a data key may have sealed values since).
std::uint64_t move_keys(Database& database, rocksdb::ColumnFamilyHandle* keys_family) {
  std::vector<std::pair<std::uint64_t, CustomerKeys>> moved;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(rocksdb::ReadOptions(), keys_family));
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
    std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(rocksdb::ReadOptions(), family));
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
  return std::nullopt;
}

void mark_current_layout(Database& database, rocksdb::WriteBatchBase& batch) {
  Database::check(batch.Put(database.family(Family::kMeta), kLayoutKey, {}), "adding to batch");
}

}  // namespace ledger::eventstore
