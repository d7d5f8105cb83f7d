#include "projections/queries.h"

#include <algorithm>
#include <map>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"

namespace ledger::projections {
namespace {

using eventstore::Family;

Family family_of(CustomerList list) { return list == CustomerList::kActive ? Family::kActive : Family::kDeleted; }

domain::CustomerId id_from(std::string_view value, domain::CustomerNumber number) {
  if (value.size() != 8) {
    throw eventstore::CorruptionError("the view row of number " + std::to_string(number) + " is corrupt");
  }
  return eventstore::get_u64(value);
}

// Ids that have a row in every bucket of `buckets`, found by walking the shortest posting list
// and probing the others.
std::vector<domain::CustomerId> candidates(const eventstore::Reader& reader, const std::vector<std::uint16_t>& buckets) {
  std::vector<domain::CustomerId> ids;
  if (buckets.empty()) return ids;
  auto it = reader.iterate(Family::kSearch);
  std::string prefix;
  eventstore::put_u16(prefix, buckets.front());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 10) throw eventstore::CorruptionError("a search row is corrupt");
    ids.push_back(eventstore::get_u64(std::string_view(it->key().data(), 10), 2));
  }
  eventstore::Database::check(it->status(), "reading the search index");
  for (std::size_t b = 1; b < buckets.size() && !ids.empty(); ++b) {
    std::vector<domain::CustomerId> kept;
    for (auto id : ids) {
      std::string row;
      eventstore::put_u16(row, buckets[b]);
      eventstore::put_u64(row, id);
      if (reader.get(Family::kSearch, row)) kept.push_back(id);
    }
    ids = std::move(kept);
  }
  return ids;
}

CustomerPage search_page(const eventstore::Reader& reader, CustomerList list, domain::CustomerNumber after,
                         std::uint32_t limit, const std::string& search,
                         const std::vector<std::vector<std::uint16_t>>& ways) {
  const auto wanted = list == CustomerList::kActive ? domain::CustomerStatus::kActive : domain::CustomerStatus::kDeleted;
  std::map<domain::CustomerNumber, domain::Customer> found;
  for (const auto& buckets : ways) {
    for (auto id : candidates(reader, buckets)) {
      auto customer = customer_by_id(reader, id);
      if (customer && customer->status == wanted && customer->number > after && matches(customer->fields, search)) {
        found.emplace(customer->number, std::move(*customer));
      }
    }
  }
  CustomerPage page;
  for (auto& [number, customer] : found) {
    if (page.customers.size() == limit) {
      page.next = page.customers.back().number;
      break;
    }
    page.customers.push_back(std::move(customer));
  }
  return page;
}

}  // namespace

std::optional<domain::Customer> customer_by_id(const eventstore::Reader& reader, domain::CustomerId id) {
  auto value = reader.get(Family::kCustomers, eventstore::u64_key(id));
  if (!value) return std::nullopt;
  return decode_customer(*value, id);
}

std::optional<domain::Customer> customer_by_number(const eventstore::Reader& reader, domain::CustomerNumber number) {
  const auto key = eventstore::u64_key(number);
  auto id = reader.get(Family::kActive, key);
  if (!id) id = reader.get(Family::kDeleted, key);
  if (!id) return std::nullopt;
  auto customer = customer_by_id(reader, id_from(*id, number));
  if (!customer) {
    throw eventstore::CorruptionError("number " + std::to_string(number) + " names a customer without state");
  }
  return customer;
}

CustomerPage list_customers(const eventstore::Reader& reader, CustomerList list, domain::CustomerNumber after,
                            std::uint32_t limit, const std::string& search) {
  limit = std::clamp<std::uint32_t>(limit, 1, kMaxPageSize);
  if (!search.empty()) {
    auto ways = query_buckets(search);
    if (!ways.empty()) return search_page(reader, list, after, limit, search, ways);
  }
  CustomerPage page;
  auto it = reader.iterate(family_of(list));
  for (it->Seek(eventstore::u64_key(after + 1)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) throw eventstore::CorruptionError("a view row key is corrupt");
    const auto number = eventstore::get_u64(std::string_view(it->key().data(), 8));
    auto customer = customer_by_id(reader, id_from(std::string_view(it->value().data(), it->value().size()), number));
    if (!customer) throw eventstore::CorruptionError("number " + std::to_string(number) + " names a customer without state");
    if (!search.empty() && !matches(customer->fields, search)) continue;
    if (page.customers.size() == limit) {
      page.next = page.customers.back().number;
      break;
    }
    page.customers.push_back(std::move(*customer));
  }
  eventstore::Database::check(it->status(), "listing customers");
  return page;
}

domain::Event decode_payload(const eventstore::Envelope& envelope) {
  auto event = domain::decode_event(envelope.payload);
  if (!event) {
    throw eventstore::CorruptionError("log entry " + std::to_string(envelope.seq) + " has a corrupt payload: " +
                                      event.error());
  }
  return std::move(event).value();
}

std::vector<HistoryEntry> customer_history(const eventstore::Reader& reader, domain::CustomerNumber number) {
  std::vector<HistoryEntry> history;
  auto customer = customer_by_number(reader, number);
  if (!customer) return history;
  for (auto seq : eventstore::stream_seqs(reader, customer->id)) {
    auto envelope = eventstore::read_entry(reader, seq);
    if (!envelope) throw eventstore::CorruptionError("stream index names missing entry " + std::to_string(seq));
    auto event = decode_payload(*envelope);
    history.push_back({std::move(*envelope), std::move(event)});
  }
  return history;
}

std::optional<domain::Customer> LedgerState::customer_by_number(domain::CustomerNumber number) const {
  return projections::customer_by_number(reader_, number);
}

domain::CustomerNumber LedgerState::lowest_free_number() const {
  // A scratch batch is never written: FreeNumbers only reads here.
  rocksdb::WriteBatch unused;
  return FreeNumbers(reader_, unused).lowest().value_or(0);
}

std::vector<domain::Customer> LedgerState::deleted_customers() const {
  std::vector<domain::Customer> out;
  auto it = reader_.iterate(Family::kDeleted);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) throw eventstore::CorruptionError("a view row key is corrupt");
    const auto number = eventstore::get_u64(std::string_view(it->key().data(), 8));
    auto customer = customer_by_id(reader_, id_from(std::string_view(it->value().data(), it->value().size()), number));
    if (!customer) throw eventstore::CorruptionError("number " + std::to_string(number) + " names a customer without state");
    out.push_back(std::move(*customer));
  }
  eventstore::Database::check(it->status(), "listing deleted customers");
  return out;
}

}  // namespace ledger::projections
