// A stored event read in place folds into the same customer as decode_event and evolve, and
// refuses the same bytes with the same words: the whole-log passes rely on both.
#include "domain/stored_event.h"

#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <capnp/message.h>
#include <catch2/catch.hpp>

#include "domain/decide.h"
#include "domain/stored_message.h"

using namespace ledger::domain;

namespace {

// What decode_event says of `bytes`, read through StoredEvent: empty when it decodes them.
std::string stored_error(std::string_view bytes) {
  try {
    return read_stored_event(bytes, [](const StoredEvent& event) { return event.decode_error(); }).value_or("");
  } catch (const MessageError& error) {
    return std::string("event: ") + error.what();
  }
}

std::string decode_error_of(std::string_view bytes) {
  auto decoded = decode_event(bytes);
  return decoded ? std::string() : decoded.error();
}

}  // namespace

TEST_CASE("a stored event folds into the customer that decode_event and evolve make", "[events]") {
  const std::vector<Event> history = {
      CustomerCreated{11, 7, CustomerFields{"Ann", "Acme Corporation Ltd", "ann@acme.example", "+44 20 7946 0000", "", "n"}},
      CustomerEdited{11, 7, {{Field::kNotes, "called on day 0 about number 7, at length"}, {Field::kPhone, "1"}}},
      CustomerEdited{11, 7, {}},
      CustomerDeleted{11, 7},
      CustomerEdited{11, 7, {{Field::kName, "Anne"}, {Field::kCompany, ""}, {Field::kName, "Annie"}}},
      CustomerUndeleted{11, 7},
      CustomersPurged{{11}, {7}, {5}, {}},
  };
  std::optional<Customer> expected;
  std::optional<Customer> folded;
  for (const auto& event : history) {
    CAPTURE(kind_name(kind_of(event)));
    expected = evolve(expected, event);
    read_stored_event(encode_event(event), [&](const StoredEvent& stored) {
      CHECK(stored.kind() == kind_of(event));
      CHECK(stored.customer() == customer_of(event));
      CHECK(stored.number() == number_of(event));
      CHECK_FALSE(stored.decode_error());
      CHECK(*stored.decode() == event);
      if (folded) {
        stored.evolve(*folded);
      } else {
        folded = stored.evolve_new();
      }
    });
    CHECK(folded == expected);
  }
}

TEST_CASE("a stored event out of order throws as evolve does, and an unknown field changes nothing", "[events]") {
  const auto ann = evolve(std::nullopt, CustomerCreated{11, 7, CustomerFields{"Ann", "", "", "", "", ""}});
  auto with = [](const Event& event, auto&& use) {
    read_stored_event(encode_event(event), [&](const StoredEvent& stored) { use(stored); });
  };
  with(CustomerCreated{11, 7, {}}, [&](const StoredEvent& e) {
    auto state = ann;
    CHECK_THROWS_AS(e.evolve(state), std::logic_error);
  });
  with(CustomerEdited{11, 7, {}}, [&](const StoredEvent& e) { CHECK_THROWS_AS(e.evolve_new(), std::logic_error); });
  with(CustomerDeleted{11, 7}, [&](const StoredEvent& e) { CHECK_THROWS_AS(e.evolve_new(), std::logic_error); });
  with(CustomersPurged{{11}, {7}, {}, {}}, [&](const StoredEvent& e) { CHECK_THROWS_AS(e.evolve_new(), std::logic_error); });
  with(CustomerDeleted{12, 7}, [&](const StoredEvent& e) {
    auto state = ann;
    CHECK_THROWS_AS(e.evolve(state), std::logic_error);
  });

  capnp::MallocMessageBuilder message;
  auto edited = message.initRoot<schema::Event>().initEdited();
  edited.setId(11);
  auto changes = edited.initChanges(2);
  changes[0].setField(schema::Field::NAME);
  changes[0].setValue("Mallory");
  changes[1].setField(static_cast<schema::Field>(6));
  read_stored_event(stored_bytes(message), [&](const StoredEvent& e) {
    auto state = ann;
    CHECK_THROWS_AS(e.evolve(state), MessageError);
    CHECK(state == ann);
  });
}

TEST_CASE("a stored event refuses what decode_event refuses, in the same words", "[events]") {
  std::vector<std::string> cases;
  {
    capnp::MallocMessageBuilder message;
    auto changes = message.initRoot<schema::Event>().initEdited().initChanges(2);
    changes[0].setField(schema::Field::EMAIL);
    changes[1].setField(static_cast<schema::Field>(6));
    cases.push_back(stored_bytes(message));
  }
  {
    std::string bytes = encode_event(CustomerDeleted{1, 2});
    bytes[16] = 9;  // the union's discriminant: an unknown kind
    cases.push_back(bytes);
  }
  {
    capnp::MallocMessageBuilder message;
    auto purged = message.initRoot<schema::Event>().initPurged();
    purged.initIds(2);
    purged.initNumbers(1);
    cases.push_back(stored_bytes(message));
  }
  {
    std::string bytes = encode_event(CustomerCreated{1, 1, CustomerFields{"Ann", "", "", "", "", ""}});
    bytes[bytes.find(std::string("Ann\0", 4)) + 3] = 'x';  // text without its NUL
    cases.push_back(bytes);
  }
  for (const auto& bytes : cases) {
    const auto error = decode_error_of(bytes);
    REQUIRE_FALSE(error.empty());
    CHECK(stored_error(bytes) == error);
  }

  // Valid events with bytes flipped: whatever decode_event says, StoredEvent says too.
  const std::vector<Event> events = {
      CustomerCreated{1, 1, CustomerFields{"Zoë", "Acme", "z@acme.example", "+1 (555) 0", "Main St 1", "notes"}},
      CustomerEdited{42, 7, {{Field::kName, "New"}, {Field::kNotes, ""}, {Field::kPhone, "1"}}},
      CustomerDeleted{42, 7},
      CustomerUndeleted{42, 7},
      CustomersPurged{{3, 1, 2}, {5, 6, 9}, {4, 0, 17}, {}},
  };
  std::mt19937_64 random(20261206);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = encode_event(events[random() % events.size()]);
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f) bytes[random() % bytes.size()] ^= static_cast<char>(1 + random() % 255);
    CAPTURE(i);
    CHECK(stored_error(bytes) == decode_error_of(bytes));
  }
}
