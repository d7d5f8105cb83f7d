// Outcome: what became of a command: accepted (durable), refused (the ledger said no, nothing
// written), or failed (the ledger could not write; nothing acknowledged). Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/customer.h"
#include "domain/refusal.h"
#include "projections/replay.h"

namespace ledger::server {

struct Accepted {
  // The log entries written, ascending; empty for an edit that changed nothing.
  std::vector<std::uint64_t> seqs;
  // Create / edit: the customer and its revision afterwards.
  domain::CustomerId id = 0;
  std::uint64_t revision = 0;
  // Create / edit: its number. Delete / undelete: the numbers, as given. Purge: numbers freed.
  std::vector<domain::CustomerNumber> numbers;
  // Purge: how many customers were erased.
  std::uint64_t purged = 0;
  // True when this is the remembered outcome of an earlier command with the same request key.
  bool replayed = false;
  bool operator==(const Accepted&) const = default;
};

enum class FailureCode : std::uint8_t { kInternal = 1, kBusy = 2, kShuttingDown = 3 };

struct Failure {
  FailureCode code = FailureCode::kInternal;
  std::string message;
};

using Outcome = std::variant<Accepted, domain::Refusal, Failure>;

// The bytes kept in the `requests` family for an idempotent retry (written_at µs first, which
// the retention filter reads). Pure functions.
std::string encode_remembered(std::int64_t written_at_us, const Accepted& accepted);
// nullopt when the bytes are not a remembered outcome.
std::optional<std::pair<std::int64_t, Accepted>> decode_remembered(std::string_view bytes);
// What verify checks of a remembered outcome (projections::VerifyOptions::read_remembered);
// nullopt when the bytes are not one.
std::optional<projections::RememberedWrite> remembered_write(std::string_view bytes);

}  // namespace ledger::server
