#include "ledger/client/refusal.h"

#include <capnp/schema.h>

namespace ledger::client {

Refusal Refusal::from(protocol::Error::Reader error) {
  Refusal refusal;
  refusal.code = error.getCode();
  refusal.message.assign(error.getMessage().cStr(), error.getMessage().size());
  refusal.field.assign(error.getField().cStr(), error.getField().size());
  for (auto problem : error.getNumbers()) refusal.numbers.push_back({problem.getNumber(), problem.getCode()});
  return refusal;
}

std::string Refusal::describe() const {
  std::string line = message;
  if (!field.empty()) line += " (field: " + field + ")";
  for (const auto& problem : numbers) line += "; " + std::to_string(problem.number) + ": " + code_name(problem.code);
  return line;
}

std::string code_name(protocol::ErrorCode code) {
  for (auto e : capnp::Schema::from<protocol::ErrorCode>().getEnumerants()) {
    if (e.getOrdinal() == static_cast<std::uint16_t>(code)) return e.getProto().getName();
  }
  return "unknown";
}

bool is_retryable(protocol::ErrorCode code) {
  return code == protocol::ErrorCode::BUSY || code == protocol::ErrorCode::SHUTTING_DOWN;
}

}  // namespace ledger::client
