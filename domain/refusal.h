// Refusal: why the ledger did not carry out a command. A returned value, never an exception:
// users cause refusals, and the caller must look at them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"

namespace ledger::domain {

// Values are part of the wire protocol: never renumber.
enum class RefusalCode : std::uint8_t {
  kNumberHeldByActive = 1,   // a create named a number an active customer holds
  kNumberHeldByDeleted = 2,  // ... that a deleted customer holds: undelete it or run cleanup
  kNotFound = 3,             // no customer holds this number
  kAlreadyDeleted = 4,       // delete of a customer that is deleted
  kNotDeleted = 5,           // undelete of a customer that is active
  kRevisionConflict = 6,     // the edit was based on an older revision
  kInvalidField = 7,         // a field value or argument breaks a rule; `field` says which
  kNothingToDo = 8,          // e.g. cleanup with no deleted customers, an empty number list
  kNotConfirmed = 9,         // a cleanup without confirmation
  kCountMismatch = 10,       // cleanup's expected count differs from the deleted count now
  kRequestKeyReused = 11,    // the request key was first used with another command
};

std::string_view refusal_code_name(RefusalCode code);

// One offending number of a batch delete/undelete, and why.
struct NumberProblem {
  CustomerNumber number = 0;
  RefusalCode code = RefusalCode::kNotFound;
  bool operator==(const NumberProblem&) const = default;
};

struct Refusal {
  RefusalCode code = RefusalCode::kInvalidField;
  // One line a person can act on: what is wrong and what to do. Never holds field values.
  std::string message;
  // For kInvalidField: the field at fault, or its name for an argument ("number", "numbers").
  std::string field;
  // For batch commands: every offending number, in the order given.
  std::vector<NumberProblem> numbers;
};

}  // namespace ledger::domain
