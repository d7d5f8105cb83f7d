// CommandFingerprint: what a request key is bound to. The ledger remembers, with the outcome
// of a command sent with a request key, the command's kind and a digest of the command itself;
// a later request with that key replays the outcome only when it carries the same command
// (server/outcome.h). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/commands.h"
#include "eventstore/crypto.h"

namespace ledger::server {

// The kinds of command, as stored in a remembered outcome: never renumber.
enum class CommandKind : std::uint8_t { kCreate = 1, kEdit = 2, kDelete = 3, kUndelete = 4, kPurge = 5 };

CommandKind kind_of(const domain::Command& command);
// The kind as the protocol names its request: "create", "edit", "delete", "undelete", "purge"
// ("command of an unknown kind" for a value read from a damaged row).
std::string_view command_kind_name(CommandKind kind);

struct CommandFingerprint {
  CommandKind kind = CommandKind::kCreate;
  eventstore::Digest digest{};
  bool operator==(const CommandFingerprint&) const = default;
};

// The bytes a fingerprint is taken over: the kind and every argument, in a fixed layout with
// every string length-prefixed (docs/storage.md, "Idempotency outcomes"). Two commands have the
// same encoding exactly when they ask for the same thing in the same words: the same fields,
// the same numbers in the same order, the same expectations.
std::string canonical_command(const domain::Command& command);

// HMAC-SHA256 of canonical_command(command) under SHA-256(request_key). Keyed, because a
// create's or an edit's arguments are customer fields: the stored fingerprint must not let
// whoever reads the data directory test guesses of them without the request key, which the
// directory holds in clear only on the command's own log entries until they are redacted.
CommandFingerprint fingerprint(const domain::Command& command, std::string_view request_key);

}  // namespace ledger::server
