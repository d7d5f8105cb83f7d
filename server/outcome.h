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
#include "eventstore/reader.h"
#include "projections/verify.h"
#include "server/command_fingerprint.h"

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

// An outcome kept in the `requests` family for a request key (docs/storage.md, "Idempotency
// outcomes").
struct Remembered {
  // When it was written (µs since the epoch; the retention filter reads it first).
  std::int64_t written_at_us = 0;
  // The command the key was first used with; nullopt in an outcome written before keys were
  // bound to their commands (format 1).
  std::optional<CommandFingerprint> command;
  Accepted accepted;
};

// The bytes kept for the outcome `accepted` of `command`. Pure functions.
std::string encode_remembered(std::int64_t written_at_us, const CommandFingerprint& command, const Accepted& accepted);
// nullopt when the bytes are not a remembered outcome (of either format).
std::optional<Remembered> decode_remembered(std::string_view bytes);

// What a command sent with a key whose outcome is remembered gets: that outcome, marked
// replayed, when the command is the one the key was first used with (the same fingerprint);
// else a refusal (kRequestKeyReused, field "requestKey") naming the first command's kind, and
// nothing is done. An outcome of format 1 has no fingerprint: it answers a command of the same
// kind, which is read from the log entry it names through `reader` (an outcome naming none is
// an edit that changed nothing). Throws StorageError when the log cannot be read.
Outcome answer_remembered(Remembered remembered, const CommandFingerprint& command, const eventstore::Reader& reader);

// What verify checks of a remembered outcome (projections::VerifyOptions::read_remembered);
// nullopt when the bytes are not one.
std::optional<projections::RememberedWrite> remembered_write(std::string_view bytes);

}  // namespace ledger::server
