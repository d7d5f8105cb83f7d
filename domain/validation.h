// Field rules. Pure functions; thread-safe.
//
// name: required, 1-200 characters (Unicode code points), not only spaces.
// company, email, phone, address: at most 1,000 bytes each; notes at most 4,000 bytes.
// All: valid UTF-8; no control characters, except newlines in address and notes.
// email (when not empty): local@domain, one '@', no spaces.
// phone (when not empty): digits and + ( ) - . space, with at least one digit.
#pragma once

#include <optional>
#include <string_view>

#include "domain/customer.h"
#include "domain/refusal.h"

namespace ledger::domain {

constexpr std::size_t kMaxNameCharacters = 200;
constexpr std::size_t kMaxFieldBytes = 1'000;
constexpr std::size_t kMaxNotesBytes = 4'000;

// nullopt when the value is acceptable for the field; else a kInvalidField refusal that
// names the field and the reason (never the value itself).
std::optional<Refusal> validate_field(Field field, std::string_view value);

// Every field of a new customer; the first problem found.
std::optional<Refusal> validate_fields(const CustomerFields& fields);

// A number a caller named: 1 .. kMaxCustomerNumber.
std::optional<Refusal> validate_number(CustomerNumber number);

}  // namespace ledger::domain
