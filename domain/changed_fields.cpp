#include "domain/changed_fields.h"

#include <stdexcept>

namespace ledger::domain {

std::vector<ChangedField> changed_fields(const std::optional<Customer>& before, const Event& event) {
  std::vector<ChangedField> out;
  if (const auto* created = std::get_if<CustomerCreated>(&event)) {
    for (auto field : kAllFields) {
      if (!created->fields.get(field).empty()) out.push_back({field, {}, created->fields.get(field)});
    }
  } else if (const auto* edited = std::get_if<CustomerEdited>(&event)) {
    if (!before) throw std::logic_error("changed_fields: an edit of customer " + std::to_string(edited->id) +
                                        " before its creation");
    for (const auto& change : edited->changes) {
      out.push_back({change.field, before->fields.get(change.field), change.value});
    }
  }
  return out;
}

}  // namespace ledger::domain
