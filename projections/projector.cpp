#include "projections/projector.h"

#include <algorithm>
#include <iterator>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"

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
             const std::optional<domain::Customer>& before, const std::optional<domain::Customer>& after) {
  Database& db = reader.database();
  FreeNumbers numbers(reader, batch);
  const auto id = after ? after->id : before->id;
  const auto id_key = eventstore::u64_key(id);

  if (before) erase(db, batch, view_of(*before), eventstore::u64_key(before->number));
  if (after) {
    put(db, batch, Family::kCustomers, id_key, encode_customer(*after));
    put(db, batch, view_of(*after), eventstore::u64_key(after->number), id_key);
  } else {
    erase(db, batch, Family::kCustomers, id_key);
  }

  if (!before && after) numbers.take(after->number);
  if (before && !after) numbers.release(before->number);

  const auto old_buckets = before ? search_buckets(before->fields) : std::vector<std::uint16_t>{};
  const auto new_buckets = after ? search_buckets(after->fields) : std::vector<std::uint16_t>{};
  if (old_buckets == new_buckets) return;
  std::vector<std::uint16_t> removed, added;
  std::set_difference(old_buckets.begin(), old_buckets.end(), new_buckets.begin(), new_buckets.end(),
                      std::back_inserter(removed));
  std::set_difference(new_buckets.begin(), new_buckets.end(), old_buckets.begin(), old_buckets.end(),
                      std::back_inserter(added));
  // Search rows are never read back while a batch is built (the old rows come from the
  // customer's state, queries read the database), and they are most of a create's keys: they
  // skip the index of a WriteBatchWithIndex and go straight into the batch it writes.
  rocksdb::WriteBatchBase& rows = *batch.GetWriteBatch();
  for (auto bucket : removed) erase(db, rows, Family::kSearch, search_row(bucket, id));
  for (auto bucket : added) put(db, rows, Family::kSearch, search_row(bucket, id), {});
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
