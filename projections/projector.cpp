#include "projections/projector.h"

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"

namespace ledger::projections {
namespace {

using eventstore::Database;
using eventstore::Family;

constexpr std::string_view kNextIdKey = "ids.next";

Family view_of(const domain::Customer& c) {
  return c.status == domain::CustomerStatus::kActive ? Family::kActive : Family::kDeleted;
}

void put(Database& db, rocksdb::WriteBatchBase& batch, Family family, std::string_view key, std::string_view value) {
  Database::check(batch.Put(db.family(family), rocksdb::Slice(key.data(), key.size()),
                            rocksdb::Slice(value.data(), value.size())),
                  "adding to batch");
}

void erase(Database& db, rocksdb::WriteBatchBase& batch, Family family, std::string_view key) {
  Database::check(batch.Delete(db.family(family), rocksdb::Slice(key.data(), key.size())), "adding to batch");
}

}  // namespace

void project(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch,
             const std::optional<domain::Customer>& before, const std::optional<domain::Customer>& after,
             LowestFreeInterval* lowest_free, const eventstore::DataKey* seal_with) {
  Database& db = reader.database();
  FreeNumbers numbers(reader, batch, lowest_free);
  const auto id = after ? after->id : before->id;
  const auto id_key = eventstore::u64_key(id);

  // An edit leaves the customer's view row as it is (same list, same number, same id).
  const bool same_row = before && after && view_of(*before) == view_of(*after) && before->number == after->number;
  if (before && !same_row) erase(db, batch, view_of(*before), eventstore::u64_key(before->number));
  if (after) {
    put(db, batch, Family::kCustomers, id_key, seal_customer(db.key_store(), *after, seal_with));
    if (!same_row) put(db, batch, view_of(*after), eventstore::u64_key(after->number), id_key);
  } else {
    erase(db, batch, Family::kCustomers, id_key);
  }

  if (!before && after) numbers.take(after->number);
  if (before && !after) numbers.release(before->number);
}

void initialize_projections(const eventstore::Reader& reader, rocksdb::WriteBatchBase& batch) {
  FreeNumbers(reader, batch).initialize();
  store_next_customer_id(reader.database(), batch, 1);
}

bool projections_initialized(const eventstore::Reader& reader) {
  return reader.get(Family::kMeta, kNextIdKey).has_value();
}

domain::CustomerId load_next_customer_id(const eventstore::Reader& reader) {
  auto value = reader.get(Family::kMeta, kNextIdKey);
  if (!value) return 1;
  if (value->size() != 8) throw eventstore::CorruptionError("the next customer id in meta is corrupt");
  return eventstore::get_u64(*value);
}

void store_next_customer_id(Database& database, rocksdb::WriteBatchBase& batch, domain::CustomerId next) {
  put(database, batch, Family::kMeta, kNextIdKey, eventstore::u64_key(next));
}

}  // namespace ledger::projections
