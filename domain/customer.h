// The customer as people see it: its identity, its number and its fields.
// Plain values; safe to copy and to share between threads when not mutated.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledger::domain {

// Internal, immutable identity: assigned once from a counter, never reused.
using CustomerId = std::uint64_t;
// The number people see. Held by an active or deleted customer; free again after a purge.
using CustomerNumber = std::uint64_t;

constexpr CustomerNumber kFirstCustomerNumber = 1;
// Twelve digits: large enough for any business, small enough to be exact in JSON doubles.
constexpr CustomerNumber kMaxCustomerNumber = 999'999'999'999ULL;

enum class Field : std::uint8_t { kName = 0, kCompany, kEmail, kPhone, kAddress, kNotes };
constexpr std::array<Field, 6> kAllFields = {Field::kName,  Field::kCompany, Field::kEmail,
                                             Field::kPhone, Field::kAddress, Field::kNotes};

// The field's name as users and the protocol spell it ("name", "company", ...).
std::string_view field_name(Field field);
// Parses a field name; nullopt for an unknown one.
std::optional<Field> parse_field(std::string_view name);

struct CustomerFields {
  std::string name;
  std::string company;
  std::string email;
  std::string phone;
  std::string address;
  std::string notes;

  const std::string& get(Field field) const;
  std::string& get(Field field);
  bool operator==(const CustomerFields&) const = default;
};

enum class CustomerStatus : std::uint8_t { kActive = 0, kDeleted = 1 };
std::string_view status_name(CustomerStatus status);

struct Customer {
  CustomerId id = 0;
  CustomerNumber number = 0;
  CustomerStatus status = CustomerStatus::kActive;
  // Counts the events applied to this customer: 1 after creation, +1 for every edit,
  // delete and undelete. An edit may name the revision it was based on.
  std::uint64_t revision = 0;
  CustomerFields fields;
  bool operator==(const Customer&) const = default;
};

}  // namespace ledger::domain
