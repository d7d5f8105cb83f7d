// What one event did to a customer's fields, each field's old and new value side by side: the
// answer to "who changed what, old -> new" without replaying the stream again. Pure functions
// of plain values; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/customer.h"
#include "domain/events.h"

namespace ledger::domain {

struct ChangedField {
  Field field = Field::kName;
  std::string old_value;  // empty for a field the customer did not have (every field at creation)
  std::string new_value;
  bool operator==(const ChangedField&) const = default;
};

// The fields `event` sets, given `before`, the customer's state before it (nullopt before its
// creation). CustomerCreated: every non-empty field, with an empty old value, in kAllFields
// order. CustomerEdited: every field it names, in its order, the old value read from `before`.
// Any other event changes no field: empty. An edit with no state before it is a stream out of
// order, a bug: throws std::logic_error, as evolve does.
std::vector<ChangedField> changed_fields(const std::optional<Customer>& before, const Event& event);

}  // namespace ledger::domain
