// Envelope: one log entry as a C++ value, and its Cap'n Proto encoding (envelope.capnp);
// EnvelopeView and EnvelopeDecoder read entries in place, for passes over the whole log.
// The functions are pure and thread-safe; an EnvelopeDecoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/crypto.h"
#include "eventstore/database.h"

namespace ledger::eventstore {

class KeyStore;
class PayloadOpener;

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

// One log entry read in place: Envelope's fields, its strings viewing the bytes it was read
// from. Valid as long as those bytes (EnvelopeDecoder::decode says how long).
struct EnvelopeView {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string_view actor;
  std::string_view request;
  std::uint64_t customer = 0;
  std::uint16_t kind = 0;
  // Word-aligned, as Cap'n Proto lays out data in a message read in place: an event payload
  // can be read where it lies.
  std::string_view payload;
  Digest digest{};
  Digest chain{};
  std::uint64_t redacted_by = 0;
  std::uint64_t number = 0;

  bool redacted() const { return redacted_by != 0; }
  // The entry with strings of its own.
  Envelope copy() const;
};

// The chain link of `envelope` after `previous` (chain_link over its kept fields).
Digest chain_link(const Digest& previous, const Envelope& envelope);
Digest chain_link(const Digest& previous, const EnvelopeView& envelope);

std::string encode_envelope(const Envelope& envelope);
// Decodes a stored value (any alignment: it is copied to a word-aligned buffer first) under
// tight reader limits. Throws CorruptionError naming `seq` when the bytes are not an envelope
// or do not belong to that seq.
Envelope decode_envelope(std::string_view bytes, std::uint64_t seq);
// Whether the ledger stores the payload of an entry of `customer` sealed: every payload of a
// customer's entry is (a purge's stub keeps none; a purge's receipt, of customer 0, holds ids).
inline bool stored_sealed(std::uint64_t customer, std::string_view payload) { return customer != 0 && !payload.empty(); }

// Replaces the sealed payload of a customer's entry by its plaintext (PayloadOpener::open's
// errors, also for one stored unsealed).
void open_payload(Envelope& envelope, const KeyStore& keys);

// Decodes entries one after another without copying their strings: word-aligned bytes are read
// where they lie, others are copied into one word-aligned buffer that the decoder keeps and
// reuses. For a pass over the whole log, where an Envelope per entry cost four allocations.
class EnvelopeDecoder {
 public:
  // With `keys`, customers' payloads are opened (PayloadOpener): views carry the plaintext.
  explicit EnvelopeDecoder(const KeyStore* keys = nullptr);
  ~EnvelopeDecoder();
  EnvelopeDecoder(const EnvelopeDecoder&) = delete;
  EnvelopeDecoder& operator=(const EnvelopeDecoder&) = delete;
  // decode_envelope's checks and errors (CorruptionError naming `seq`). The view is valid until
  // the next call, and no longer than `bytes` when they are word-aligned.
  const EnvelopeView& decode(std::string_view bytes, std::uint64_t seq);

 private:
  std::vector<std::uint64_t> words_;  // the copy of unaligned bytes
  std::unique_ptr<PayloadOpener> opener_;
  EnvelopeView view_;
};

}  // namespace ledger::eventstore
