#include "domain/customer.h"

#include <stdexcept>

namespace ledger::domain {

std::string_view field_name(Field field) {
  switch (field) {
    case Field::kName: return "name";
    case Field::kCompany: return "company";
    case Field::kEmail: return "email";
    case Field::kPhone: return "phone";
    case Field::kAddress: return "address";
    case Field::kNotes: return "notes";
  }
  // Reached only through a cast from an unchecked integer; the name still has to be printable
  // in a refusal or a log line.
  return "unknown field";
}

std::optional<Field> parse_field(std::string_view name) {
  for (Field field : kAllFields) {
    if (field_name(field) == name) return field;
  }
  return std::nullopt;
}

namespace {

// One switch for both the const and the mutable get(); Fields is CustomerFields, const or not.
template <typename Fields>
auto& field_of(Fields& fields, Field field) {
  switch (field) {
    case Field::kName: return fields.name;
    case Field::kCompany: return fields.company;
    case Field::kEmail: return fields.email;
    case Field::kPhone: return fields.phone;
    case Field::kAddress: return fields.address;
    case Field::kNotes: return fields.notes;
  }
  // Callers parse or validate fields first (parse_field, validate_field, decode_event), so an
  // out-of-range value here is a bug, not a user's mistake.
  throw std::logic_error("CustomerFields::get: field value out of range");
}

}  // namespace

const std::string& CustomerFields::get(Field field) const { return field_of(*this, field); }

std::string& CustomerFields::get(Field field) { return field_of(*this, field); }

std::string_view status_name(CustomerStatus status) {
  switch (status) {
    case CustomerStatus::kActive: return "active";
    case CustomerStatus::kDeleted: return "deleted";
  }
  return "unknown status";
}

}  // namespace ledger::domain
