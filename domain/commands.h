// Commands: what a caller asks the ledger to do. Imperative names; plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "domain/customer.h"
#include "domain/events.h"

namespace ledger::domain {

struct CreateCustomer {
  CustomerFields fields;
  // Absent: the lowest free number.
  std::optional<CustomerNumber> number;
};

// Names only the fields to change. A deleted customer may be edited and stays deleted.
struct EditCustomer {
  CustomerNumber number = 0;
  std::vector<FieldChange> changes;
  // When given, the edit is refused unless the customer is still at this revision.
  std::optional<std::uint64_t> expected_revision;
};

// All or none: refused as a whole if any number cannot be deleted.
struct DeleteCustomers {
  std::vector<CustomerNumber> numbers;
};

// All or none: refused as a whole if any number cannot be undeleted.
struct UndeleteCustomers {
  std::vector<CustomerNumber> numbers;
};

// "Cleanup old customers": erases every deleted customer at once. Cannot be undone.
struct PurgeDeletedCustomers {
  bool confirm = false;
  // When given, refused unless exactly this many customers are deleted now
  // (the count the admin saw when confirming).
  std::optional<std::uint64_t> expected_count;
};

using Command =
    std::variant<CreateCustomer, EditCustomer, DeleteCustomers, UndeleteCustomers, PurgeDeletedCustomers>;

}  // namespace ledger::domain
