#include "projections/queries.h"

#include <algorithm>

#include <openssl/crypto.h>

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

}  // namespace

std::optional<domain::Customer> customer_by_id(const eventstore::Reader& reader, domain::CustomerId id) {
  auto value = reader.get(Family::kCustomers, eventstore::u64_key(id));
  if (!value) return std::nullopt;
  return read_customer(reader.database().key_store(), *value, id);
}

std::optional<domain::CustomerId> customer_id_by_number(const eventstore::Reader& reader, domain::CustomerNumber number) {
  const auto key = eventstore::u64_key(number);
  auto id = reader.get(Family::kActive, key);
  if (!id) id = reader.get(Family::kDeleted, key);
  if (!id) return std::nullopt;
  return id_from(*id, number);
}

std::optional<domain::Customer> customer_by_number(const eventstore::Reader& reader, domain::CustomerNumber number) {
  return customer_by_number(reader, number, [&](domain::CustomerId id) { return customer_by_id(reader, id); });
}

CustomerPage list_customers(const eventstore::Reader& reader, CustomerList list, domain::CustomerNumber after,
                            std::uint32_t limit) {
  limit = std::clamp<std::uint32_t>(limit, 1, kMaxPageSize);
  CustomerPage page;
  auto it = reader.iterate(family_of(list));
  for (it->Seek(eventstore::u64_key(after + 1)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) throw eventstore::CorruptionError("a view row key is corrupt");
    const auto number = eventstore::get_u64(std::string_view(it->key().data(), 8));
    if (page.customers.size() == limit) {
      page.next = page.customers.back().number;
      break;
    }
    auto customer = customer_by_id(reader, id_from(std::string_view(it->value().data(), it->value().size()), number));
    if (!customer) throw eventstore::CorruptionError("number " + std::to_string(number) + " names a customer without state");
    page.customers.push_back(std::move(*customer));
  }
  eventstore::Database::check(it->status(), "listing customers");
  return page;
}

CustomerPage search_customers(const eventstore::Reader& reader, const SearchIndex& index, CustomerList list,
                              domain::CustomerNumber after, std::uint32_t limit, std::string_view search,
                              std::chrono::milliseconds wait) {
  limit = std::clamp<std::uint32_t>(limit, 1, kMaxPageSize);
  const auto status = list == CustomerList::kActive ? domain::CustomerStatus::kActive : domain::CustomerStatus::kDeleted;
  const auto found = index.find(status, after, limit, search, wait);
  // The page's states and keys are read together (two MultiGets rather than two Gets per
  // customer: about half of a page's time went to the lookups' fixed costs).
  std::vector<domain::CustomerId> ids;
  std::vector<std::string> keys;
  ids.reserve(found.matches.size());
  keys.reserve(found.matches.size());
  for (const auto& match : found.matches) {
    ids.push_back(match.id);
    keys.push_back(eventstore::u64_key(match.id));
  }
  const auto stored = reader.get_many(Family::kCustomers, keys);
  auto customer_keys = reader.database().key_store().get_many(ids);
  CustomerPage page;
  for (std::size_t i = 0; i < found.matches.size(); ++i) {
    // The index is updated after each durable batch, so a later batch may have changed the
    // customer since: what is answered is read now and must still be what was asked for (a
    // customer purged meanwhile has no state or no keys any more).
    if (!stored[i]) continue;
    auto customer = read_customer(customer_keys[i], *stored[i], ids[i]);
    if (customer_keys[i]) OPENSSL_cleanse(&*customer_keys[i], sizeof(*customer_keys[i]));
    const auto& match = found.matches[i];
    if (customer && customer->number == match.number && customer->status == status && matches(customer->fields, search)) {
      page.customers.push_back(std::move(*customer));
    }
  }
  if (found.more && !found.matches.empty()) page.next = found.matches.back().number;
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
  std::optional<domain::Customer> state;
  for (auto seq : eventstore::stream_seqs(reader, customer->id)) {
    auto envelope = eventstore::read_entry(reader, seq);
    if (!envelope) throw eventstore::CorruptionError("stream index names missing entry " + std::to_string(seq));
    auto event = decode_payload(*envelope);
    auto before = state;
    state = domain::evolve(std::move(state), event);
    history.push_back({std::move(*envelope), std::move(event), std::move(before)});
  }
  return history;
}

std::optional<domain::Customer> customer_before(const eventstore::Reader& reader, domain::CustomerId id,
                                                std::uint64_t seq) {
  std::optional<domain::Customer> state;
  for (auto stream_seq : eventstore::stream_seqs(reader, id)) {
    if (stream_seq >= seq) break;
    auto envelope = eventstore::read_entry(reader, stream_seq);
    if (!envelope) throw eventstore::CorruptionError("stream index names missing entry " + std::to_string(stream_seq));
    if (envelope->redacted()) return std::nullopt;
    state = domain::evolve(std::move(state), decode_payload(*envelope));
  }
  return state;
}

std::optional<domain::Customer> LedgerState::customer_by_number(domain::CustomerNumber number) const {
  return projections::customer_by_number(reader_, number);
}

domain::CustomerNumber LedgerState::lowest_free_number() const {
  // A scratch batch is never written: FreeNumbers only reads here.
  rocksdb::WriteBatch unused;
  return FreeNumbers(reader_, unused, lowest_free_).lowest().value_or(0);
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
