#include "domain/decide.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/domain/in_memory_ledger.h"

using namespace ledger::domain;
using ledger::domain::testing::InMemoryLedger;

namespace {

std::vector<Event> events_of(const Decision& decision) {
  if (const auto* refusal = std::get_if<Refusal>(&decision)) FAIL("refused: " << refusal->message);
  return std::get<std::vector<Event>>(decision);
}

Refusal refusal_of(const Decision& decision) {
  REQUIRE(std::holds_alternative<Refusal>(decision));
  return std::get<Refusal>(decision);
}

CustomerFields named(std::string name) {
  CustomerFields fields;
  fields.name = std::move(name);
  return fields;
}

// 1 Ann (active), 2 Bob (deleted), 3 Cy (active), 5 Di (active), 6 Ed (deleted).
InMemoryLedger sample_ledger() {
  InMemoryLedger ledger;
  ledger.put(1, "Ann");
  ledger.put(2, "Bob", CustomerStatus::kDeleted);
  ledger.put(3, "Cy");
  ledger.put(5, "Di").revision = 4;
  ledger.put(6, "Ed", CustomerStatus::kDeleted);
  return ledger;
}

}  // namespace

TEST_CASE("every refusal code is reachable, and named", "[decide]") {
  struct Case {
    RefusalCode code;
    const char* name;
    Command command;
  };
  const std::vector<Case> cases = {
      {RefusalCode::kNumberHeldByActive, "number_held_by_active", CreateCustomer{named("X"), 1}},
      {RefusalCode::kNumberHeldByDeleted, "number_held_by_deleted", CreateCustomer{named("X"), 2}},
      {RefusalCode::kNotFound, "not_found", EditCustomer{4, {{Field::kName, "X"}}, {}}},
      {RefusalCode::kAlreadyDeleted, "already_deleted", DeleteCustomers{{2}}},
      {RefusalCode::kNotDeleted, "not_deleted", UndeleteCustomers{{1}}},
      {RefusalCode::kRevisionConflict, "revision_conflict",
       EditCustomer{5, {{Field::kName, "X"}}, 3}},
      {RefusalCode::kInvalidField, "invalid_field", CreateCustomer{named(""), {}}},
      {RefusalCode::kNothingToDo, "nothing_to_do", DeleteCustomers{{}}},
      {RefusalCode::kNotConfirmed, "not_confirmed", PurgeDeletedCustomers{false, {}}},
      {RefusalCode::kCountMismatch, "count_mismatch", PurgeDeletedCustomers{true, 3}},
  };
  const InMemoryLedger ledger = sample_ledger();
  std::set<std::string_view> names;
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(refusal_of(decide(ledger, c.command)).code == c.code);
    CHECK(refusal_code_name(c.code) == c.name);
    names.insert(refusal_code_name(c.code));
  }
  CHECK(names.size() == 10);
}

TEST_CASE("create: without a number, the lowest free one", "[decide]") {
  InMemoryLedger ledger;
  auto events = events_of(decide(ledger, CreateCustomer{named("First"), {}}));
  REQUIRE(events.size() == 1);
  CHECK(std::get<CustomerCreated>(events[0]) == CustomerCreated{1, 1, named("First")});

  ledger.put(1, "Ann");
  ledger.put(3, "Cy");
  CustomerFields fields{"Zoë", "Acme", "zoe@acme.example", "+1 555", "Main St 1\nTown", "hi"};
  events = events_of(decide(ledger, CreateCustomer{fields, {}}));
  REQUIRE(events.size() == 1);
  const auto& created = std::get<CustomerCreated>(events[0]);
  CHECK(created.number == 2);
  CHECK(created.id == ledger.next_customer_id());
  CHECK(created.fields == fields);

  // A deleted customer still holds its number.
  ledger.put(2, "Bob", CustomerStatus::kDeleted);
  events = events_of(decide(ledger, CreateCustomer{named("Next"), {}}));
  CHECK(std::get<CustomerCreated>(events[0]).number == 4);
}

TEST_CASE("create: a named number", "[decide]") {
  const InMemoryLedger ledger = sample_ledger();
  struct Case {
    CustomerNumber number;
    std::optional<RefusalCode> refused;
    const char* message;
  };
  const std::vector<Case> cases = {
      {4, {}, ""},
      {kMaxCustomerNumber, {}, ""},
      {1, RefusalCode::kNumberHeldByActive,
       "number 1 is held by an active customer; choose another number or leave it out for the "
       "lowest free one"},
      {2, RefusalCode::kNumberHeldByDeleted,
       "number 2 is held by a deleted customer; undelete it, or run cleanup to free the number"},
      {0, RefusalCode::kInvalidField, "number: must be from 1 to 999999999999 (got 0)"},
      {kMaxCustomerNumber + 1, RefusalCode::kInvalidField,
       "number: must be from 1 to 999999999999 (got 1000000000000)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.number);
    Decision decision = decide(ledger, CreateCustomer{named("New"), c.number});
    if (!c.refused) {
      auto events = events_of(decision);
      REQUIRE(events.size() == 1);
      CHECK(std::get<CustomerCreated>(events[0]).number == c.number);
      continue;
    }
    Refusal refusal = refusal_of(decision);
    CHECK(refusal.code == *c.refused);
    CHECK(refusal.message == c.message);
    if (refusal.code == RefusalCode::kInvalidField) CHECK(refusal.field == "number");
  }
}

TEST_CASE("create: fields are validated first, and refusals never echo values", "[decide]") {
  const InMemoryLedger ledger = sample_ledger();
  const std::vector<std::pair<Field, std::string>> bad = {
      {Field::kName, "   "},
      {Field::kCompany, std::string(1001, 'k')},
      {Field::kEmail, "secret-mail.example"},
      {Field::kPhone, "secret phone"},
      {Field::kAddress, "secret\tstreet"},
      {Field::kNotes, "secret\x01note"},
  };
  for (const auto& [field, value] : bad) {
    CustomerFields fields = named("Valid Name");
    fields.get(field) = value;
    // Number 1 is held too; the bad field is what the caller hears about first.
    Refusal refusal = refusal_of(decide(ledger, CreateCustomer{fields, 1}));
    CHECK(refusal.code == RefusalCode::kInvalidField);
    CHECK(refusal.field == field_name(field));
    CHECK_THAT(refusal.message, !Catch::Contains("secret") && !Catch::Contains("kkkk"));
  }
}

TEST_CASE("edit: refusals", "[decide]") {
  const InMemoryLedger ledger = sample_ledger();
  struct Case {
    const char* what;
    EditCustomer command;
    RefusalCode code;
    std::string field;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"number 0", {0, {{Field::kName, "X"}}, {}}, RefusalCode::kInvalidField, "number", ""},
      {"no changes", {1, {}, {}}, RefusalCode::kNothingToDo, "", ""},
      {"a field twice",
       {1, {{Field::kEmail, "a@b"}, {Field::kEmail, "c@d"}}, {}},
       RefusalCode::kInvalidField,
       "email",
       ""},
      {"name emptied",
       {1, {{Field::kName, ""}}, {}},
       RefusalCode::kInvalidField,
       "name",
       "name: required, 1-200 characters"},
      {"name blank", {1, {{Field::kName, "  "}}, {}}, RefusalCode::kInvalidField, "name", ""},
      {"bad phone",
       {1, {{Field::kCompany, "Ok"}, {Field::kPhone, "secret"}}, {}},
       RefusalCode::kInvalidField,
       "phone",
       ""},
      {"unknown field",
       {1, {{static_cast<Field>(9), "X"}}, {}},
       RefusalCode::kInvalidField,
       "field",
       ""},
      {"free number",
       {4, {{Field::kName, "X"}}, {}},
       RefusalCode::kNotFound,
       "",
       "no customer has number 4"},
      {"stale revision",
       {5, {{Field::kName, "X"}}, 3},
       RefusalCode::kRevisionConflict,
       "",
       "customer 5 is at revision 4, not 3; reload and edit again"},
      {"future revision",
       {5, {{Field::kName, "X"}}, 9},
       RefusalCode::kRevisionConflict,
       "",
       "customer 5 is at revision 4, not 9; reload and edit again"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Refusal refusal = refusal_of(decide(ledger, c.command));
    CHECK(refusal.code == c.code);
    CHECK(refusal.field == c.field);
    if (!c.message.empty()) CHECK(refusal.message == c.message);
    CHECK_THAT(refusal.message, !Catch::Contains("secret"));
    CHECK(refusal.numbers.empty());
  }
}

TEST_CASE("edit: only the fields that change are recorded", "[decide]") {
  InMemoryLedger ledger;
  CustomerFields fields{"Ann", "Acme", "ann@acme.example", "", "", ""};
  ledger.apply(events_of(decide(ledger, CreateCustomer{fields, 7})));

  EditCustomer edit{7,
                    {{Field::kName, "Ann"},
                     {Field::kEmail, "ann@new.example"},
                     {Field::kCompany, "Acme"},
                     {Field::kNotes, "met at fair"}},
                    1};
  auto events = events_of(decide(ledger, edit));
  REQUIRE(events.size() == 1);
  const auto& edited = std::get<CustomerEdited>(events[0]);
  CHECK(edited.id == ledger.customer_by_number(7)->id);
  CHECK(edited.number == 7);
  CHECK(edited.changes == std::vector<FieldChange>{{Field::kEmail, "ann@new.example"},
                                                   {Field::kNotes, "met at fair"}});

  ledger.apply(events);
  auto customer = *ledger.customer_by_number(7);
  CHECK(customer.revision == 2);
  CHECK(customer.fields == CustomerFields{"Ann", "Acme", "ann@new.example", "", "", "met at fair"});

  // The same edit again, now based on the old revision: refused, not silently applied.
  CHECK(refusal_of(decide(ledger, edit)).code == RefusalCode::kRevisionConflict);
}

TEST_CASE("edit: an edit that changes nothing appends nothing", "[decide]") {
  InMemoryLedger ledger = sample_ledger();
  for (std::optional<std::uint64_t> revision : {std::optional<std::uint64_t>{}, {1}}) {
    Decision decision =
        decide(ledger, EditCustomer{1, {{Field::kName, "Ann"}, {Field::kNotes, ""}}, revision});
    REQUIRE(std::holds_alternative<std::vector<Event>>(decision));
    CHECK(std::get<std::vector<Event>>(decision).empty());
  }
  // A no-op against a stale revision is still a conflict: the caller's picture is out of date.
  CHECK(refusal_of(decide(ledger, EditCustomer{5, {{Field::kName, "Di"}}, 1})).code ==
        RefusalCode::kRevisionConflict);
}

TEST_CASE("edit: a deleted customer can be edited and stays deleted", "[decide]") {
  InMemoryLedger ledger = sample_ledger();
  const Customer before = *ledger.customer_by_number(2);
  auto events =
      events_of(decide(ledger, EditCustomer{2, {{Field::kName, "Robert"}}, before.revision}));
  REQUIRE(events.size() == 1);
  ledger.apply(events);
  const Customer after = *ledger.customer_by_number(2);
  CHECK(after.status == CustomerStatus::kDeleted);
  CHECK(after.fields.name == "Robert");
  CHECK(after.revision == before.revision + 1);
  CHECK(after.id == before.id);
}

TEST_CASE("delete and undelete: one event per number, in the order given", "[decide]") {
  InMemoryLedger ledger = sample_ledger();
  const CustomerId id3 = ledger.customer_by_number(3)->id;
  const CustomerId id1 = ledger.customer_by_number(1)->id;
  // Duplicates collapse to the first occurrence.
  auto events = events_of(decide(ledger, DeleteCustomers{{3, 1, 3, 1}}));
  REQUIRE(events.size() == 2);
  CHECK(std::get<CustomerDeleted>(events[0]) == CustomerDeleted{id3, 3});
  CHECK(std::get<CustomerDeleted>(events[1]) == CustomerDeleted{id1, 1});
  ledger.apply(events);
  CHECK(ledger.customer_by_number(3)->status == CustomerStatus::kDeleted);
  CHECK(ledger.customer_by_number(1)->revision == 2);

  // Deleted customers keep their numbers.
  CHECK(refusal_of(decide(ledger, CreateCustomer{named("X"), 3})).code ==
        RefusalCode::kNumberHeldByDeleted);
  CHECK(std::get<CustomerCreated>(events_of(decide(ledger, CreateCustomer{named("X"), {}}))[0])
            .number == 4);

  events = events_of(decide(ledger, UndeleteCustomers{{1, 2, 1}}));
  REQUIRE(events.size() == 2);
  CHECK(std::get<CustomerUndeleted>(events[0]) == CustomerUndeleted{id1, 1});
  CHECK(std::get<CustomerUndeleted>(events[1]).number == 2);
  ledger.apply(events);
  CHECK(ledger.customer_by_number(1)->status == CustomerStatus::kActive);
  CHECK(ledger.customer_by_number(1)->revision == 3);
  CHECK(ledger.customer_by_number(2)->status == CustomerStatus::kActive);
}

TEST_CASE("delete and undelete: all or none, naming every offending number", "[decide]") {
  const InMemoryLedger ledger = sample_ledger();  // active 1 3 5, deleted 2 6, free 4
  struct Case {
    const char* what;
    Command command;
    RefusalCode code;
    std::vector<NumberProblem> numbers;
    std::string message;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"delete, empty list",
       DeleteCustomers{{}},
       RefusalCode::kNothingToDo,
       {},
       "no numbers given; nothing was deleted",
       ""},
      {"undelete, empty list",
       UndeleteCustomers{{}},
       RefusalCode::kNothingToDo,
       {},
       "no numbers given; nothing was undeleted",
       ""},
      {"delete, one free and one deleted among good ones",
       DeleteCustomers{{1, 4, 3, 6, 4}},
       RefusalCode::kNotFound,
       {{4, RefusalCode::kNotFound}, {6, RefusalCode::kAlreadyDeleted}},
       "nothing was deleted: 4 not found; 6 already deleted",
       ""},
      {"delete, first problem decides the code",
       DeleteCustomers{{2, 4, 1}},
       RefusalCode::kAlreadyDeleted,
       {{2, RefusalCode::kAlreadyDeleted}, {4, RefusalCode::kNotFound}},
       "nothing was deleted: 2 already deleted; 4 not found",
       ""},
      {"delete, an invalid number",
       DeleteCustomers{{0, 1, 6}},
       RefusalCode::kInvalidField,
       {{0, RefusalCode::kInvalidField}, {6, RefusalCode::kAlreadyDeleted}},
       "nothing was deleted: 0 is not a valid number (1 to 999999999999); 6 already deleted",
       "numbers"},
      {"undelete, active and free",
       UndeleteCustomers{{2, 1, 4, 5, 6}},
       RefusalCode::kNotDeleted,
       {{1, RefusalCode::kNotDeleted}, {4, RefusalCode::kNotFound}, {5, RefusalCode::kNotDeleted}},
       "nothing was undeleted: 1 is not deleted; 4 not found; 5 is not deleted",
       ""},
      {"undelete, number too large",
       UndeleteCustomers{{kMaxCustomerNumber + 1}},
       RefusalCode::kInvalidField,
       {{kMaxCustomerNumber + 1, RefusalCode::kInvalidField}},
       "",
       "numbers"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Refusal refusal = refusal_of(decide(ledger, c.command));
    CHECK(refusal.code == c.code);
    CHECK(refusal.numbers == c.numbers);
    if (!c.message.empty()) CHECK(refusal.message == c.message);
    CHECK(refusal.field == c.field);
  }
}

TEST_CASE("cleanup: confirmation, count guard, nothing to do", "[decide]") {
  const InMemoryLedger ledger = sample_ledger();  // deleted: 2 and 6
  Refusal refusal = refusal_of(decide(ledger, PurgeDeletedCustomers{false, 2}));
  CHECK(refusal.code == RefusalCode::kNotConfirmed);
  CHECK_THAT(refusal.message, Catch::Contains("permanently erases every deleted customer") &&
                                  Catch::Contains("cannot be undone") &&
                                  Catch::Contains("confirm"));

  refusal = refusal_of(decide(ledger, PurgeDeletedCustomers{true, 3}));
  CHECK(refusal.code == RefusalCode::kCountMismatch);
  CHECK(refusal.message ==
        "2 customers are deleted now, not 3; look at the deleted list again and confirm");

  InMemoryLedger none;
  none.put(1, "Ann");
  CHECK(refusal_of(decide(none, PurgeDeletedCustomers{true, {}})).code ==
        RefusalCode::kNothingToDo);
  CHECK(refusal_of(decide(none, PurgeDeletedCustomers{true, 0})).code == RefusalCode::kNothingToDo);
  CHECK(refusal_of(decide(none, PurgeDeletedCustomers{true, 1})).code ==
        RefusalCode::kCountMismatch);
}

TEST_CASE("cleanup: one event for every deleted customer, and their numbers are free again",
          "[decide]") {
  InMemoryLedger ledger = sample_ledger();
  const CustomerId id2 = ledger.customer_by_number(2)->id;
  const CustomerId id6 = ledger.customer_by_number(6)->id;
  for (std::optional<std::uint64_t> expected : {std::optional<std::uint64_t>{}, {2}}) {
    auto events = events_of(decide(ledger, PurgeDeletedCustomers{true, expected}));
    REQUIRE(events.size() == 1);
    const auto& purged = std::get<CustomersPurged>(events[0]);
    CHECK(purged.ids == std::vector<CustomerId>{id2, id6});
    CHECK(purged.numbers == std::vector<CustomerNumber>{2, 6});
    CHECK(purged.entries_redacted.empty());
    CHECK(purged.merkle_root == Digest{});
  }

  ledger.apply(events_of(decide(ledger, PurgeDeletedCustomers{true, 2})));
  CHECK_FALSE(ledger.customer_by_number(2));
  CHECK_FALSE(ledger.customer_by_number(6));
  CHECK(ledger.deleted_customers().empty());
  // The freed number goes to the next customer, as a new identity.
  auto events = events_of(decide(ledger, CreateCustomer{named("Newcomer"), {}}));
  const auto& created = std::get<CustomerCreated>(events[0]);
  CHECK(created.number == 2);
  CHECK(created.id != id2);
  CHECK(events_of(decide(ledger, CreateCustomer{named("Other"), 6})).size() == 1);
  // Purged customers can't be undeleted or edited.
  CHECK(refusal_of(decide(ledger, UndeleteCustomers{{6}})).code == RefusalCode::kNotFound);
  CHECK(refusal_of(decide(ledger, EditCustomer{6, {{Field::kName, "X"}}, {}})).code ==
        RefusalCode::kNotFound);
}

TEST_CASE("cleanup: the event lists customers by number whatever order the view gives",
          "[decide]") {
  // A view whose deleted list comes back in no particular order.
  class ShuffledView : public InMemoryLedger {
   public:
    std::vector<Customer> deleted_customers() const override {
      auto deleted = InMemoryLedger::deleted_customers();
      std::reverse(deleted.begin(), deleted.end());
      return deleted;
    }
  };
  ShuffledView view;
  view.put(9, "Late", CustomerStatus::kDeleted);    // id 1
  view.put(4, "Early", CustomerStatus::kDeleted);   // id 2
  view.put(7, "Middle", CustomerStatus::kDeleted);  // id 3
  auto events = events_of(decide(view, PurgeDeletedCustomers{true, 3}));
  const auto& purged = std::get<CustomersPurged>(events.at(0));
  CHECK(purged.numbers == std::vector<CustomerNumber>{4, 7, 9});
  CHECK(purged.ids == std::vector<CustomerId>{2, 3, 1});
}

TEST_CASE("evolve: the fold of one customer's events", "[decide]") {
  const CustomerFields fields{"Ann", "Acme", "", "", "", ""};
  Customer ann = evolve(std::nullopt, CustomerCreated{11, 7, fields});
  CHECK(ann == Customer{11, 7, CustomerStatus::kActive, 1, fields});

  ann = evolve(ann, CustomerEdited{11, 7, {{Field::kCompany, "Acme Ltd"}, {Field::kNotes, "n"}}});
  CHECK(ann.revision == 2);
  CHECK(ann.fields == CustomerFields{"Ann", "Acme Ltd", "", "", "", "n"});

  ann = evolve(ann, CustomerDeleted{11, 7});
  CHECK(ann.status == CustomerStatus::kDeleted);
  CHECK(ann.revision == 3);

  ann = evolve(ann, CustomerEdited{11, 7, {{Field::kName, "Anne"}}});
  CHECK(ann.status == CustomerStatus::kDeleted);
  CHECK(ann.fields.name == "Anne");
  CHECK(ann.revision == 4);

  ann = evolve(ann, CustomerUndeleted{11, 7});
  CHECK(ann.status == CustomerStatus::kActive);
  CHECK(ann.revision == 5);

  // A purge is not folded into a customer; given one anyway, the state stays as it was.
  CHECK(evolve(ann, CustomersPurged{{11}, {7}, {}, {}}) == ann);
}

TEST_CASE("evolve: events out of order are bugs and throw", "[decide]") {
  const Customer ann = evolve(std::nullopt, CustomerCreated{11, 7, named("Ann")});
  CHECK_THROWS_AS(evolve(ann, CustomerCreated{11, 7, named("Ann")}), std::logic_error);
  CHECK_THROWS_AS(evolve(std::nullopt, CustomerEdited{11, 7, {}}), std::logic_error);
  CHECK_THROWS_AS(evolve(std::nullopt, CustomerDeleted{11, 7}), std::logic_error);
  CHECK_THROWS_AS(evolve(std::nullopt, CustomerUndeleted{11, 7}), std::logic_error);
  CHECK_THROWS_AS(evolve(std::nullopt, CustomersPurged{}), std::logic_error);
  CHECK_THROWS_AS(evolve(ann, CustomerDeleted{12, 7}), std::logic_error);
}
