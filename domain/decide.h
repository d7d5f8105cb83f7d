// decide: the pure heart of the ledger. Given what the ledger holds now (a LedgerView) and a
// command, returns the events that carry it out, or a refusal. Reads the view; changes nothing.
//
// evolve: the pure fold of one customer's events into its state.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "domain/commands.h"
#include "domain/customer.h"
#include "domain/events.h"
#include "domain/refusal.h"

namespace ledger::domain {

// What decide may ask of the ledger's current state. Implementations: the in-memory one in
// tests, and the projections over RocksDB overlaid with the batch being built.
class LedgerView {
 public:
  virtual ~LedgerView() = default;
  // The active or deleted customer holding `number`; nullopt when the number is free.
  virtual std::optional<Customer> customer_by_number(CustomerNumber number) const = 0;
  // The lowest number no customer holds.
  virtual CustomerNumber lowest_free_number() const = 0;
  // The id the next created customer receives.
  virtual CustomerId next_customer_id() const = 0;
  // Every deleted customer, by number.
  virtual std::vector<Customer> deleted_customers() const = 0;
};

using Decision = std::variant<std::vector<Event>, Refusal>;

Decision decide(const LedgerView& view, const Command& command);

// Applies a customer event (not a purge) to the customer's state; nullopt before creation.
// A purge ends customers; callers remove them instead of evolving them (given one anyway,
// evolve returns the state unchanged). A stream out of order — CustomerCreated on an existing
// state, any other event on nullopt or on another customer's state — is a bug, not a user's
// doing: throws std::logic_error. Takes both by value: a fold that passes them as rvalues
// (std::move) moves the strings instead of copying them.
Customer evolve(std::optional<Customer> state, Event event);

}  // namespace ledger::domain
