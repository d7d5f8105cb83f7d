#include "domain/events.h"

#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <capnp/message.h>
#include <catch2/catch.hpp>

#include "domain/events.capnp.h"
#include "domain/stored_message.h"

using namespace ledger::domain;

namespace {

std::vector<Event> sample_events() {
  Digest root;
  for (std::size_t i = 0; i < root.size(); ++i) root[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return {
      CustomerCreated{1, 1,
                      CustomerFields{"Zoë 😀", "Acme", "z@acme.example", "+1 (555) 0",
                                     "Main St 1\nTown", std::string(4000, 'n')}},
      CustomerCreated{~CustomerId{0}, kMaxCustomerNumber, CustomerFields{"A", "", "", "", "", ""}},
      CustomerEdited{42, 7, {{Field::kName, "New"}, {Field::kNotes, ""}, {Field::kPhone, "1"}}},
      CustomerEdited{43, 8, {}},
      CustomerDeleted{42, 7},
      CustomerUndeleted{42, 7},
      CustomersPurged{{3, 1, 2}, {5, 6, 9}, {4, 0, 17}, root},
      CustomersPurged{{3}, {5}, {}, {}},
  };
}

}  // namespace

TEST_CASE("every event kind survives encode and decode", "[events]") {
  for (const Event& event : sample_events()) {
    CAPTURE(kind_name(kind_of(event)));
    const std::string bytes = encode_event(event);
    CHECK(bytes.size() % 8 == 0);
    auto decoded = decode_event(bytes);
    REQUIRE(decoded.ok());
    CHECK(*decoded == event);
    // Deterministic: the same event always has the same bytes (the store hashes them).
    CHECK(encode_event(*decoded) == bytes);
  }
}

TEST_CASE("kinds, their names and the customer an event belongs to", "[events]") {
  const std::vector<std::tuple<Event, EventKind, std::string_view, CustomerId>> cases = {
      {CustomerCreated{5, 1, {}}, EventKind::kCreated, "CustomerCreated", 5},
      {CustomerEdited{6, 1, {}}, EventKind::kEdited, "CustomerEdited", 6},
      {CustomerDeleted{7, 1}, EventKind::kDeleted, "CustomerDeleted", 7},
      {CustomerUndeleted{8, 1}, EventKind::kUndeleted, "CustomerUndeleted", 8},
      {CustomersPurged{{9}, {1}, {}, {}}, EventKind::kPurged, "CustomersPurged", 0},
  };
  for (const auto& [event, kind, name, customer] : cases) {
    CHECK(kind_of(event) == kind);
    CHECK(kind_name(kind) == name);
    CHECK(customer_of(event) == customer);
  }
  // Stored as integers in every envelope: the values are the storage format.
  CHECK(static_cast<int>(EventKind::kCreated) == 1);
  CHECK(static_cast<int>(EventKind::kPurged) == 5);
  CHECK(kind_name(static_cast<EventKind>(99)) == "UnknownEvent");
}

TEST_CASE("a cleanup of many customers stays readable", "[events]") {
  CustomersPurged purged;
  for (std::uint64_t i = 1; i <= 200'000; ++i) {
    purged.ids.push_back(i * 3);
    purged.numbers.push_back(i);
    purged.entries_redacted.push_back(static_cast<std::uint32_t>(i % 5 + 1));
  }
  auto decoded = decode_event(encode_event(purged));
  REQUIRE(decoded.ok());
  CHECK(std::get<CustomersPurged>(*decoded) == purged);
}

TEST_CASE("decoding from an unaligned address works", "[events]") {
  const Event event = sample_events().front();
  const std::string bytes = encode_event(event);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    CAPTURE(offset);
    std::string storage(offset, 'x');
    storage += bytes;
    auto decoded = decode_event(std::string_view(storage).substr(offset));
    REQUIRE(decoded.ok());
    CHECK(*decoded == event);
  }
}

TEST_CASE("decode refuses bytes that are not exactly one event", "[events]") {
  const std::string bytes = encode_event(sample_events().front());
  CHECK_FALSE(decode_event("").ok());
  CHECK_FALSE(decode_event(bytes.substr(0, bytes.size() - 1)).ok());
  CHECK_FALSE(decode_event(bytes + std::string(4, '\0')).ok());
  CHECK_FALSE(decode_event(bytes + std::string(8, '\0')).ok());
  // Every truncation, aligned or not, is an error.
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    CAPTURE(size);
    auto decoded = decode_event(std::string_view(bytes).substr(0, size));
    CHECK_FALSE(decoded.ok());
    if (!decoded.ok()) CHECK_THAT(decoded.error(), Catch::StartsWith("event: "));
  }
  // A bare segment table for an empty message: no root pointer.
  CHECK_FALSE(decode_event(std::string(8, '\0')).ok());
}

TEST_CASE("decode refuses unknown kinds and fields, bad receipts", "[events]") {
  SECTION("an unknown field ordinal") {
    capnp::MallocMessageBuilder message;
    auto edited = message.initRoot<schema::Event>().initEdited();
    auto changes = edited.initChanges(2);
    changes[0].setField(schema::Field::EMAIL);
    changes[1].setField(static_cast<schema::Field>(6));
    auto decoded = decode_event(stored_bytes(message));
    REQUIRE_FALSE(decoded.ok());
    CHECK_THAT(decoded.error(), Catch::Contains("unknown field"));
  }
  SECTION("an unknown event kind") {
    std::string bytes = encode_event(CustomerDeleted{1, 2});
    // Word 0 is the segment table, word 1 the root pointer, word 2 starts the root's data
    // section, where the union's discriminant sits (see the generated schema).
    REQUIRE(decode_event(bytes).ok());
    bytes[16] = 9;
    auto decoded = decode_event(bytes);
    REQUIRE_FALSE(decoded.ok());
    CHECK_THAT(decoded.error(), Catch::Contains("unknown event kind"));
  }
  SECTION("a Merkle root that is missing decodes as zeroes; one of the wrong size is refused") {
    capnp::MallocMessageBuilder message;
    auto purged = message.initRoot<schema::Event>().initPurged();
    purged.initIds(1).set(0, 4);
    purged.initNumbers(1).set(0, 2);
    auto decoded = decode_event(stored_bytes(message));
    REQUIRE(decoded.ok());
    CHECK(std::get<CustomersPurged>(*decoded) == CustomersPurged{{4}, {2}, {}, Digest{}});

    std::uint8_t short_root[31] = {};
    purged.setMerkleRoot(capnp::Data::Reader(short_root, sizeof short_root));
    decoded = decode_event(stored_bytes(message));
    REQUIRE_FALSE(decoded.ok());
    CHECK_THAT(decoded.error(), Catch::Contains("Merkle root"));
  }
  SECTION("purge lists that do not line up") {
    capnp::MallocMessageBuilder message;
    auto purged = message.initRoot<schema::Event>().initPurged();
    purged.initIds(2);
    purged.initNumbers(1);
    CHECK_FALSE(decode_event(stored_bytes(message)).ok());
    purged.initNumbers(2);
    CHECK(decode_event(stored_bytes(message)).ok());
    purged.initEntriesRedacted(3);
    CHECK_FALSE(decode_event(stored_bytes(message)).ok());
  }
  SECTION("text without its NUL terminator") {
    std::string bytes =
        encode_event(CustomerCreated{1, 1, CustomerFields{"Ann", "", "", "", "", ""}});
    const auto at = bytes.find(std::string("Ann\0", 4));
    REQUIRE(at != std::string::npos);
    bytes[at + 3] = 'x';
    CHECK_FALSE(decode_event(bytes).ok());
  }
}

TEST_CASE("decode never crashes on arbitrary bytes", "[events]") {
  std::mt19937_64 random(20240229);
  auto random_bytes = [&](std::size_t size) {
    std::string bytes(size, '\0');
    for (char& b : bytes) b = static_cast<char>(random() & 0xFF);
    return bytes;
  };

  SECTION("random buffers") {
    int errors = 0;
    constexpr int kBuffers = 5000;
    for (int i = 0; i < kBuffers; ++i) {
      const std::string bytes = random_bytes(random() % 512);
      Result<Event> decoded = Error{""};
      REQUIRE_NOTHROW(decoded = decode_event(bytes));
      if (!decoded.ok()) ++errors;
    }
    CHECK(errors == kBuffers);
  }

  SECTION("random buffers behind a plausible segment table") {
    // One segment whose size matches the buffer, so the reader gets past the table and has to
    // follow random pointers.
    for (int i = 0; i < 5000; ++i) {
      const std::size_t words = 1 + random() % 64;
      std::string bytes = random_bytes(8 * (words + 1));
      const std::uint32_t header[2] = {0, static_cast<std::uint32_t>(words)};
      std::memcpy(bytes.data(), header, sizeof header);
      Result<Event> decoded = Error{""};
      REQUIRE_NOTHROW(decoded = decode_event(bytes));
      if (decoded.ok()) REQUIRE_NOTHROW(encode_event(*decoded));
    }
  }

  SECTION("valid events with bytes flipped") {
    const auto events = sample_events();
    for (int i = 0; i < 5000; ++i) {
      std::string bytes = encode_event(events[random() % events.size()]);
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f)
        bytes[random() % bytes.size()] ^= static_cast<char>(1 + random() % 255);
      Result<Event> decoded = Error{""};
      REQUIRE_NOTHROW(decoded = decode_event(bytes));
      if (decoded.ok()) REQUIRE_NOTHROW(encode_event(*decoded));
    }
  }
}
