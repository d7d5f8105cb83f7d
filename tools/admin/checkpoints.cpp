#include "tools/admin/checkpoints.h"

#include <chrono>
#include <map>
#include <set>

#include <rocksdb/utilities/checkpoint.h>

#include "domain/events.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"

namespace ledger::tools {
namespace {

const std::string kPrefix = "checkpoint.";
const std::string kKeyCopyPrefix = "keystore-copy.";

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every customer a purge erased: the customers of the stubs.
std::vector<std::uint64_t> purged_customers(const eventstore::Reader& reader) {
  std::set<std::uint64_t> ids;
  eventstore::scan_entry_views(reader, 1, [&](const eventstore::EnvelopeView& e) {
    if (e.redacted() && e.customer != 0) ids.insert(e.customer);
    return true;
  });
  return {ids.begin(), ids.end()};
}

std::string record_key(std::int64_t taken_at_us) {
  return kPrefix + eventstore::u64_key(static_cast<std::uint64_t>(taken_at_us));
}

}  // namespace

CheckpointRecord create_checkpoint(eventstore::Database& database, const std::filesystem::path& dir) {
  CheckpointRecord record;
  record.path = std::filesystem::absolute(dir);
  record.taken_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  record.next_seq = eventstore::load_head(eventstore::DatabaseReader(database)).next_seq;
  rocksdb::Checkpoint* raw = nullptr;
  eventstore::Database::check(rocksdb::Checkpoint::Create(&database.db(), &raw), "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  eventstore::Database::check(checkpoint->CreateCheckpoint(record.path.string()), "creating checkpoint " + record.path.string());
  std::string value = eventstore::u64_key(record.next_seq) + record.path.string();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  eventstore::Database::check(
      database.db().Put(sync, database.family(eventstore::Family::kMeta), record_key(record.taken_at_us), value),
      "recording the checkpoint");
  return record;
}

std::vector<CheckpointRecord> list_checkpoints(const eventstore::Reader& reader) {
  std::vector<CheckpointRecord> out;
  auto it = reader.iterate(eventstore::Family::kMeta);
  for (it->Seek(kPrefix); it->Valid() && it->key().starts_with(kPrefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (key.size() != kPrefix.size() + 8 || value.size() < 8) continue;
    CheckpointRecord record;
    record.taken_at_us = static_cast<std::int64_t>(eventstore::get_u64(key, kPrefix.size()));
    record.next_seq = eventstore::get_u64(value);
    record.path = std::string(value.substr(8));
    out.push_back(std::move(record));
  }
  eventstore::Database::check(it->status(), "reading checkpoint records");
  if (out.empty()) return out;

  // For each purge, its earliest redacted entry: a checkpoint taken before the purge holds that
  // purge's data when it already had that entry.
  std::map<std::uint64_t, std::uint64_t> first_stub;  // purge seq -> lowest stub seq
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.redacted()) first_stub.emplace(e.redacted_by, e.seq);
    return true;
  });
  for (auto& record : out) {
    for (const auto& [purge, stub] : first_stub) {
      if (purge >= record.next_seq && stub < record.next_seq) record.holds_purged_data = true;
    }
  }
  return out;
}

void check_key_store_copy_path(const eventstore::Database& database, const std::filesystem::path& dir) {
  const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(dir));
  const auto data = std::filesystem::weakly_canonical(std::filesystem::absolute(database.dir()));
  if (path == data || path.string().rfind(data.string() + "/", 0) == 0) {
    throw eventstore::StorageError("the key store copy must lie outside the data directory, not at " + path.string());
  }
}

KeyStoreCopy create_key_store_copy(eventstore::Database& database, const std::filesystem::path& dir) {
  check_key_store_copy_path(database, dir);
  KeyStoreCopy copy;
  copy.path = std::filesystem::absolute(dir);
  copy.taken_at_us = now_us();
  database.key_store().checkpoint_to(copy.path);
  copy.exists = true;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  eventstore::Database::check(
      database.db().Put(sync, database.family(eventstore::Family::kMeta),
                        kKeyCopyPrefix + eventstore::u64_key(static_cast<std::uint64_t>(copy.taken_at_us)), copy.path.string()),
      "recording the key store copy");
  return copy;
}

std::vector<KeyStoreCopy> list_key_store_copies(const eventstore::Reader& reader) {
  std::vector<KeyStoreCopy> out;
  auto it = reader.iterate(eventstore::Family::kMeta);
  for (it->Seek(kKeyCopyPrefix); it->Valid() && it->key().starts_with(kKeyCopyPrefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() != kKeyCopyPrefix.size() + 8) continue;
    KeyStoreCopy copy;
    copy.taken_at_us = static_cast<std::int64_t>(eventstore::get_u64(key, kKeyCopyPrefix.size()));
    copy.path = it->value().ToString();
    copy.exists = std::filesystem::exists(copy.path / "CURRENT");
    out.push_back(std::move(copy));
  }
  eventstore::Database::check(it->status(), "reading key store copy records");
  it.reset();
  if (out.empty()) return out;
  const auto purged = purged_customers(reader);
  for (auto& copy : out) {
    if (!copy.exists) continue;
    auto keys = eventstore::KeyStore::open_copy(copy.path, eventstore::KeyStore::Mode::kReadOnly);
    for (auto id : purged) copy.purged_keys += keys->get(id).has_value();
  }
  return out;
}

eventstore::KeyShred destroy_purged_keys(const eventstore::Reader& reader, const KeyStoreCopy& copy) {
  auto keys = eventstore::KeyStore::open_copy(copy.path, eventstore::KeyStore::Mode::kWritable);
  return keys->shred(purged_customers(reader));
}

void remove_checkpoint(eventstore::Database& database, const CheckpointRecord& record) {
  if (std::filesystem::exists(record.path)) {
    if (!std::filesystem::exists(record.path / "CURRENT")) {
      throw eventstore::StorageError(record.path.string() + " does not look like a checkpoint (no CURRENT); not removed");
    }
    std::filesystem::remove_all(record.path);
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  eventstore::Database::check(
      database.db().Delete(sync, database.family(eventstore::Family::kMeta), record_key(record.taken_at_us)),
      "removing the checkpoint record");
}

}  // namespace ledger::tools
