#include "domain/decide.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "domain/validation.h"
#include "domain/overloaded.h"

namespace ledger::domain {
namespace {

Refusal refuse(RefusalCode code, std::string message) {
  return Refusal{code, std::move(message), {}, {}};
}

Decision decide_create(const LedgerView& view, const CreateCustomer& command) {
  if (auto refusal = validate_fields(command.fields)) return *refusal;
  CustomerNumber number = 0;
  if (command.number) {
    number = *command.number;
    if (auto refusal = validate_number(number)) return *refusal;
    if (auto holder = view.customer_by_number(number)) {
      if (holder->status == CustomerStatus::kActive) {
        return refuse(RefusalCode::kNumberHeldByActive,
                      "number " + std::to_string(number) +
                          " is held by an active customer; choose another number or leave it "
                          "out for the lowest free one");
      }
      return refuse(RefusalCode::kNumberHeldByDeleted,
                    "number " + std::to_string(number) +
                        " is held by a deleted customer; undelete it, or run cleanup to free "
                        "the number");
    }
  } else {
    number = view.lowest_free_number();
  }
  return std::vector<Event>{CustomerCreated{view.next_customer_id(), number, command.fields}};
}

Decision decide_edit(const LedgerView& view, const EditCustomer& command) {
  if (auto refusal = validate_number(command.number)) return *refusal;
  if (command.changes.empty()) {
    return refuse(RefusalCode::kNothingToDo,
                  "the edit names no fields; name at least one field to change");
  }
  std::array<bool, kAllFields.size()> named{};
  for (const FieldChange& change : command.changes) {
    const auto index = static_cast<std::size_t>(change.field);
    if (index >= named.size()) return *validate_field(change.field, change.value);  // unknown
    if (named[index]) {
      std::string name(field_name(change.field));
      return Refusal{RefusalCode::kInvalidField,
                     name + ": named more than once in one edit; name each field once",
                     name,
                     {}};
    }
    named[index] = true;
  }
  for (const FieldChange& change : command.changes) {
    if (auto refusal = validate_field(change.field, change.value)) return *refusal;
  }

  auto customer = view.customer_by_number(command.number);
  if (!customer) {
    return refuse(RefusalCode::kNotFound,
                  "no customer has number " + std::to_string(command.number));
  }
  if (command.expected_revision && *command.expected_revision != customer->revision) {
    return refuse(RefusalCode::kRevisionConflict,
                  "customer " + std::to_string(command.number) + " is at revision " +
                      std::to_string(customer->revision) + ", not " +
                      std::to_string(*command.expected_revision) + "; reload and edit again");
  }

  // Retries and forms that resend every field are common; recording a change to the same value
  // would only grow the log and bump the revision under other editors' feet.
  CustomerEdited edited{customer->id, customer->number, {}};
  for (const FieldChange& change : command.changes) {
    if (customer->fields.get(change.field) != change.value) edited.changes.push_back(change);
  }
  if (edited.changes.empty()) return std::vector<Event>{};
  return std::vector<Event>{std::move(edited)};
}

// Delete and undelete differ only in which status a customer must have, the refusal for the
// other status, the event, and the words in the message.
struct BatchRules {
  CustomerStatus required;
  RefusalCode wrong_status;
  std::string_view wrong_status_words;  // "already deleted", "is not deleted"
  std::string_view past_tense;          // "deleted", "undeleted"
};

template <typename MakeEvent>
Decision decide_batch(const LedgerView& view, const std::vector<CustomerNumber>& given,
                      const BatchRules& rules, MakeEvent make_event) {
  if (given.empty()) {
    return refuse(RefusalCode::kNothingToDo,
                  "no numbers given; nothing was " + std::string(rules.past_tense));
  }
  std::vector<CustomerNumber> numbers;
  numbers.reserve(given.size());
  std::unordered_set<CustomerNumber> seen;
  for (CustomerNumber number : given) {
    if (seen.insert(number).second) numbers.push_back(number);
  }

  std::vector<NumberProblem> problems;
  std::string details;
  std::vector<Event> events;
  auto note = [&](CustomerNumber number, RefusalCode code, std::string_view words) {
    problems.push_back(NumberProblem{number, code});
    details += (details.empty() ? "" : "; ") + std::to_string(number) + " " + std::string(words);
  };
  for (CustomerNumber number : numbers) {
    if (validate_number(number)) {
      note(number, RefusalCode::kInvalidField,
           "is not a valid number (1 to " + std::to_string(kMaxCustomerNumber) + ")");
      continue;
    }
    auto customer = view.customer_by_number(number);
    if (!customer) {
      note(number, RefusalCode::kNotFound, "not found");
    } else if (customer->status != rules.required) {
      note(number, rules.wrong_status, rules.wrong_status_words);
    } else if (problems.empty()) {
      events.push_back(make_event(*customer));
    }
  }
  if (problems.empty()) return events;

  Refusal refusal = refuse(problems.front().code,
                           "nothing was " + std::string(rules.past_tense) + ": " + details);
  if (refusal.code == RefusalCode::kInvalidField) refusal.field = "numbers";
  refusal.numbers = std::move(problems);
  return refusal;
}

Decision decide_purge(const LedgerView& view, const PurgeDeletedCustomers& command) {
  if (!command.confirm) {
    return refuse(RefusalCode::kNotConfirmed,
                  "cleanup permanently erases every deleted customer and cannot be undone; "
                  "confirm to proceed");
  }
  std::vector<Customer> deleted = view.deleted_customers();
  if (command.expected_count && *command.expected_count != deleted.size()) {
    return refuse(RefusalCode::kCountMismatch, std::to_string(deleted.size()) +
                                                   " customers are deleted now, not " +
                                                   std::to_string(*command.expected_count) +
                                                   "; look at the deleted list again and confirm");
  }
  if (deleted.empty()) {
    return refuse(RefusalCode::kNothingToDo,
                  "no customers are deleted; there is nothing to clean up");
  }
  // The view promises order by number, but the event is the permanent record: make sure.
  std::sort(deleted.begin(), deleted.end(),
            [](const Customer& a, const Customer& b) { return a.number < b.number; });
  CustomersPurged purged;
  purged.ids.reserve(deleted.size());
  purged.numbers.reserve(deleted.size());
  for (const Customer& customer : deleted) {
    purged.ids.push_back(customer.id);
    purged.numbers.push_back(customer.number);
  }
  return std::vector<Event>{std::move(purged)};
}

[[noreturn]] void bug(const char* what) { throw std::logic_error(std::string("evolve: ") + what); }

// A stream holds only its own customer's events; anything else means the caller mixed streams.
Customer& existing(std::optional<Customer>& state, CustomerId id) {
  if (!state) bug("event before CustomerCreated");
  if (state->id != id) bug("event for another customer");
  return *state;
}

}  // namespace

Decision decide(const LedgerView& view, const Command& command) {
  return std::visit(
      Overloaded{
          [&](const CreateCustomer& c) { return decide_create(view, c); },
          [&](const EditCustomer& c) { return decide_edit(view, c); },
          [&](const DeleteCustomers& c) {
            return decide_batch(view, c.numbers,
                                {CustomerStatus::kActive, RefusalCode::kAlreadyDeleted,
                                 "already deleted", "deleted"},
                                [](const Customer& customer) -> Event {
                                  return CustomerDeleted{customer.id, customer.number};
                                });
          },
          [&](const UndeleteCustomers& c) {
            return decide_batch(
                view, c.numbers,
                {CustomerStatus::kDeleted, RefusalCode::kNotDeleted, "is not deleted", "undeleted"},
                [](const Customer& customer) -> Event {
                  return CustomerUndeleted{customer.id, customer.number};
                });
          },
          [&](const PurgeDeletedCustomers& c) { return decide_purge(view, c); },
      },
      command);
}

Customer evolve(std::optional<Customer> state, Event event) {
  return std::visit(Overloaded{
                        [&](CustomerCreated& e) {
                          if (state) bug("CustomerCreated for a customer that exists");
                          return Customer{e.id, e.number, CustomerStatus::kActive, 1, std::move(e.fields)};
                        },
                        [&](CustomerEdited& e) {
                          Customer& next = existing(state, e.id);
                          for (FieldChange& change : e.changes) next.fields.get(change.field) = std::move(change.value);
                          ++next.revision;
                          return std::move(next);
                        },
                        [&](const CustomerDeleted& e) {
                          Customer& next = existing(state, e.id);
                          next.status = CustomerStatus::kDeleted;
                          ++next.revision;
                          return std::move(next);
                        },
                        [&](const CustomerUndeleted& e) {
                          Customer& next = existing(state, e.id);
                          next.status = CustomerStatus::kActive;
                          ++next.revision;
                          return std::move(next);
                        },
                        [&](const CustomersPurged&) {
                          // A purge ends customers rather than changing them: callers remove the
                          // purged ones. Returning the state unchanged keeps a fold over the whole
                          // log harmless.
                          if (!state) bug("CustomersPurged folded into no customer");
                          return std::move(*state);
                        },
                    },
                    event);
}

}  // namespace ledger::domain
