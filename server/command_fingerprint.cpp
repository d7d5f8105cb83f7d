#include "server/command_fingerprint.h"

#include <optional>

#include "domain/overloaded.h"
#include "eventstore/encoding.h"

namespace ledger::server {
namespace {

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_text(std::string& out, std::string_view text) {
  eventstore::put_u64(out, text.size());
  out.append(text);
}

void put_optional(std::string& out, const std::optional<std::uint64_t>& value) {
  put_u8(out, value ? 1 : 0);
  eventstore::put_u64(out, value.value_or(0));
}

void put_numbers(std::string& out, const std::vector<domain::CustomerNumber>& numbers) {
  eventstore::put_u64(out, numbers.size());
  for (auto n : numbers) eventstore::put_u64(out, n);
}

}  // namespace

CommandKind kind_of(const domain::Command& command) {
  return std::visit(domain::Overloaded{
                        [](const domain::CreateCustomer&) { return CommandKind::kCreate; },
                        [](const domain::EditCustomer&) { return CommandKind::kEdit; },
                        [](const domain::DeleteCustomers&) { return CommandKind::kDelete; },
                        [](const domain::UndeleteCustomers&) { return CommandKind::kUndelete; },
                        [](const domain::PurgeDeletedCustomers&) { return CommandKind::kPurge; },
                    },
                    command);
}

std::string_view command_kind_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::kCreate: return "create";
    case CommandKind::kEdit: return "edit";
    case CommandKind::kDelete: return "delete";
    case CommandKind::kUndelete: return "undelete";
    case CommandKind::kPurge: return "purge";
  }
  // Only a byte read from a damaged or newer row lands here.
  return "command of an unknown kind";
}

std::string canonical_command(const domain::Command& command) {
  std::string out;
  put_u8(out, static_cast<std::uint8_t>(kind_of(command)));
  std::visit(domain::Overloaded{
                 [&](const domain::CreateCustomer& create) {
                   put_optional(out, create.number);
                   for (auto field : domain::kAllFields) put_text(out, create.fields.get(field));
                 },
                 [&](const domain::EditCustomer& edit) {
                   eventstore::put_u64(out, edit.number);
                   put_optional(out, edit.expected_revision);
                   eventstore::put_u64(out, edit.changes.size());
                   for (const auto& change : edit.changes) {
                     put_u8(out, static_cast<std::uint8_t>(change.field));
                     put_text(out, change.value);
                   }
                 },
                 [&](const domain::DeleteCustomers& del) { put_numbers(out, del.numbers); },
                 [&](const domain::UndeleteCustomers& undelete) { put_numbers(out, undelete.numbers); },
                 [&](const domain::PurgeDeletedCustomers& purge) {
                   put_u8(out, purge.confirm ? 1 : 0);
                   put_optional(out, purge.expected_count);
                 },
             },
             command);
  return out;
}

CommandFingerprint fingerprint(const domain::Command& command, std::string_view request_key) {
  return {kind_of(command), eventstore::hmac_sha256(eventstore::sha256(request_key), canonical_command(command))};
}

}  // namespace ledger::server
