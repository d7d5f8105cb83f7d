// Envelope: one log entry as a C++ value, and its Cap'n Proto encoding (envelope.capnp).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/crypto.h"
#include "eventstore/database.h"

namespace ledger::eventstore {

// A log entry whose bytes cannot be read. The message names the seq.
class CorruptionError : public StorageError {
 public:
  using StorageError::StorageError;
};

struct Envelope {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string actor;
  std::string request;
  std::uint64_t customer = 0;
  std::uint16_t kind = 0;
  std::string payload;
  Digest digest{};
  Digest chain{};
  std::uint64_t redacted_by = 0;
  // The number of the customer it belongs to (a customer keeps its number for life); 0 for a
  // purge, and in entries written before envelopes carried it.
  std::uint64_t number = 0;

  bool redacted() const { return redacted_by != 0; }
  bool operator==(const Envelope&) const = default;
};

// The chain link of `envelope` after `previous` (chain_link over its kept fields).
Digest chain_link(const Digest& previous, const Envelope& envelope);

std::string encode_envelope(const Envelope& envelope);
// Decodes a stored value (any alignment: it is copied to a word-aligned buffer first) under
// tight reader limits. Throws CorruptionError naming `seq` when the bytes are not an envelope
// or do not belong to that seq.
Envelope decode_envelope(std::string_view bytes, std::uint64_t seq);

}  // namespace ledger::eventstore
