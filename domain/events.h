// Customer events as C++ values, and their Cap'n Proto encoding (events.capnp).
// Plain values; the codec functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/customer.h"
#include "domain/result.h"

namespace ledger::domain {

struct FieldChange {
  Field field = Field::kName;
  std::string value;
  bool operator==(const FieldChange&) const = default;
};

struct CustomerCreated {
  CustomerId id = 0;
  CustomerNumber number = 0;
  CustomerFields fields;
  bool operator==(const CustomerCreated&) const = default;
};

struct CustomerEdited {
  CustomerId id = 0;
  CustomerNumber number = 0;
  std::vector<FieldChange> changes;
  bool operator==(const CustomerEdited&) const = default;
};

struct CustomerDeleted {
  CustomerId id = 0;
  CustomerNumber number = 0;
  bool operator==(const CustomerDeleted&) const = default;
};

struct CustomerUndeleted {
  CustomerId id = 0;
  CustomerNumber number = 0;
  bool operator==(const CustomerUndeleted&) const = default;
};

using Digest = std::array<std::uint8_t, 32>;

struct CustomersPurged {
  std::vector<CustomerId> ids;
  std::vector<CustomerNumber> numbers;
  // Filled by the store when it redacts: per id, the entries redacted; and the Merkle root.
  std::vector<std::uint32_t> entries_redacted;
  Digest merkle_root{};
  bool operator==(const CustomersPurged&) const = default;
};

using Event = std::variant<CustomerCreated, CustomerEdited, CustomerDeleted, CustomerUndeleted,
                           CustomersPurged>;

// Stored in every envelope, so that a redacted stub still says what it was.
// Values are part of the storage format: never renumber.
enum class EventKind : std::uint16_t {
  kCreated = 1,
  kEdited = 2,
  kDeleted = 3,
  kUndeleted = 4,
  kPurged = 5,
};

EventKind kind_of(const Event& event);
std::string_view kind_name(EventKind kind);
// The customer the event belongs to; 0 for a purge, which belongs to none.
CustomerId customer_of(const Event& event);
// The number of the customer the event belongs to; 0 for a purge, which frees several.
CustomerNumber number_of(const Event& event);

// Encodes as a flat Cap'n Proto message (segment table included).
std::string encode_event(const Event& event);
// Decodes bytes from encode_event. The bytes may be unaligned; they are copied first.
// Returns an error (never throws) when the bytes are not a valid event: not one whole Cap'n
// Proto message, an unknown kind or field, a Merkle root neither 32 bytes nor empty (empty
// decodes as zeroes), or CustomersPurged lists of different lengths (entriesRedacted may be
// empty).
Result<Event> decode_event(std::string_view bytes);

}  // namespace ledger::domain
