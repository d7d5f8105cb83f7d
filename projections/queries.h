// Reads of the projections: one customer, pages of the active or deleted list (optionally
// filtered by a search fragment, through the in-memory SearchIndex), and a customer's history
// from the log. Every function takes a Reader: a DatabaseReader sees every acknowledged write;
// the writer passes an OverlayReader.
// Thread-safe as far as the Reader is; each call uses short-lived iterators only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer.h"
#include "domain/decide.h"
#include "domain/events.h"
#include "eventstore/envelope.h"
#include "eventstore/reader.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"

namespace ledger::projections {

enum class CustomerList { kActive, kDeleted };

constexpr std::uint32_t kMaxPageSize = 1000;

struct CustomerPage {
  std::vector<domain::Customer> customers;
  // The `after` for the next page; nullopt when this page is the last.
  std::optional<domain::CustomerNumber> next;
};

std::optional<domain::Customer> customer_by_id(const eventstore::Reader& reader, domain::CustomerId id);
std::optional<domain::Customer> customer_by_number(const eventstore::Reader& reader, domain::CustomerNumber number);
// The id of the active or deleted customer holding `number` (its view row); nullopt when the
// number is free.
std::optional<domain::CustomerId> customer_id_by_number(const eventstore::Reader& reader, domain::CustomerNumber number);
// customer_by_number with the state read by `read_by_id(id)` (an optional Customer), for a
// reader that keeps what it reads: nullopt when the number is free, CorruptionError when the
// number's view row names a customer without state.
template <typename ReadById>
std::optional<domain::Customer> customer_by_number(const eventstore::Reader& reader, domain::CustomerNumber number,
                                                   ReadById&& read_by_id) {
  const auto id = customer_id_by_number(reader, number);
  if (!id) return std::nullopt;
  std::optional<domain::Customer> customer = read_by_id(*id);
  if (!customer) {
    throw eventstore::CorruptionError("number " + std::to_string(number) + " names a customer without state");
  }
  return customer;
}

// Customers of `list` with numbers > after, ascending, at most `limit` (capped at
// kMaxPageSize).
CustomerPage list_customers(const eventstore::Reader& reader, CustomerList list, domain::CustomerNumber after,
                            std::uint32_t limit);

// The same, only those matching `search` (projections::matches), found through `index` and
// read through `reader`. Throws SearchNotReady when the index has not loaded within `wait`.
CustomerPage search_customers(const eventstore::Reader& reader, const SearchIndex& index, CustomerList list,
                              domain::CustomerNumber after, std::uint32_t limit, std::string_view search,
                              std::chrono::milliseconds wait);

struct HistoryEntry {
  eventstore::Envelope envelope;  // payload included
  domain::Event event;
  // The customer as it was before this event (its old values); nullopt before its creation.
  std::optional<domain::Customer> before;
};

// Every event of the customer holding `number` now, oldest first, each with the state before
// it; empty when none holds it. A number reused after a purge shows only the current holder's
// events.
std::vector<HistoryEntry> customer_history(const eventstore::Reader& reader, domain::CustomerNumber number);

// Customer `id` as it was just before entry `seq`: the events of its stream below `seq`, folded.
// nullopt when it has none (created at `seq` or later) or its entries are stubs (purged).
// Reads the stream index and those entries.
std::optional<domain::Customer> customer_before(const eventstore::Reader& reader, domain::CustomerId id,
                                                std::uint64_t seq);

// Decodes an envelope's payload. Throws eventstore::CorruptionError naming the seq when the
// payload is not an event.
domain::Event decode_payload(const eventstore::Envelope& envelope);

// The ledger as decide sees it, read through `reader` (an OverlayReader while the writer builds
// a batch). `next_id` comes from the writer, which owns the counter; so may the lowest free
// interval (FreeNumbers), which is then read only when not known and kept in "*lowest_free".
class LedgerState final : public domain::LedgerView {
 public:
  LedgerState(const eventstore::Reader& reader, domain::CustomerId next_id, LowestFreeInterval* lowest_free = nullptr)
      : reader_(reader), next_id_(next_id), lowest_free_(lowest_free) {}
  std::optional<domain::Customer> customer_by_number(domain::CustomerNumber number) const override;
  domain::CustomerNumber lowest_free_number() const override;
  domain::CustomerId next_customer_id() const override { return next_id_; }
  std::vector<domain::Customer> deleted_customers() const override;

 private:
  const eventstore::Reader& reader_;
  domain::CustomerId next_id_;
  LowestFreeInterval* lowest_free_;
};

}  // namespace ledger::projections
