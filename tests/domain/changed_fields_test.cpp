// changed_fields over a customer's stream, folded with evolve as the history reads do.
#include "domain/changed_fields.h"

#include <catch2/catch.hpp>

#include "domain/decide.h"

using namespace ledger::domain;

TEST_CASE("a stream's changed fields: created has no old values, each edit its fields old to new", "[domain]") {
  const std::vector<Event> stream = {
      CustomerCreated{7, 3, CustomerFields{"Ada", "", "ada@example.org", "", "", ""}},
      CustomerEdited{7, 3, {{Field::kName, "Ada Lovelace"}, {Field::kNotes, "owes 12.50"}}},
      CustomerEdited{7, 3, {{Field::kNotes, ""}, {Field::kName, "Ada King"}}},
      CustomerDeleted{7, 3},
      CustomerUndeleted{7, 3},
  };
  std::optional<Customer> state;
  std::vector<std::vector<ChangedField>> changed;
  for (const auto& event : stream) {
    changed.push_back(changed_fields(state, event));
    state = evolve(state, event);
  }
  using C = std::vector<ChangedField>;
  CHECK(changed[0] == C{{Field::kName, "", "Ada"}, {Field::kEmail, "", "ada@example.org"}});
  CHECK(changed[1] == C{{Field::kName, "Ada", "Ada Lovelace"}, {Field::kNotes, "", "owes 12.50"}});
  CHECK(changed[2] == C{{Field::kNotes, "owes 12.50", ""}, {Field::kName, "Ada Lovelace", "Ada King"}});
  CHECK(changed[3].empty());
  CHECK(changed[4].empty());
  CHECK(changed_fields(state, CustomersPurged{{7}, {3}, {5}, {}}).empty());
}

TEST_CASE("an edit with no state before it is a bug, not an empty old value", "[domain]") {
  CHECK_THROWS_AS(changed_fields(std::nullopt, CustomerEdited{7, 3, {{Field::kName, "X"}}}), std::logic_error);
}
