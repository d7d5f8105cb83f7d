// Sealing: personal values encrypted under their customer's data key before they reach a file
// (AES-256-GCM from OpenSSL), so that deleting the key makes every copy unreadable at once.
//
// A sealed value (docs/storage.md, "Sealed values"):
//
//   0xE1 ‖ marker (8 bytes) ‖ nonce (12 random bytes) ‖ ciphertext (as long as the plaintext) ‖ tag (16)
//
// The marker is the first 8 bytes of SHA-256("ledger.sealed" ‖ u64 customer): it names the
// customer without its key, so the erasure pass can look for any value sealed for a purged
// customer in every file, also after a restart. The associated data binds the value to where
// it lies: the family, the customer, the seq (0 for the customer's state) and the header, so a
// value moved to another entry, another customer or another family does not open.
//
// Thread-safe: each thread keeps its own cipher context and nonce block.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/crypto.h"

namespace ledger::eventstore {

using DataKey = std::array<std::uint8_t, 32>;

constexpr std::uint8_t kSealedFormat = 0xE1;
constexpr std::size_t kSealedHeaderBytes = 1 + 8;
constexpr std::size_t kSealedOverheadBytes = kSealedHeaderBytes + 12 + 16;

// Where a sealed value lies; part of its associated data.
enum class SealedIn : std::uint8_t { kLog = 1, kCustomers = 2 };

struct SealPlace {
  SealedIn family = SealedIn::kLog;
  std::uint64_t customer = 0;
  std::uint64_t seq = 0;  // the log entry's seq; 0 for a state
};

// Whether `value` is sealed (its first byte). A plaintext value is a Cap'n Proto message of one
// segment, whose first byte is 0.
bool is_sealed(std::string_view value);
// Throws CorruptionError naming `place` unless `value` is long enough to be sealed and is: the
// ledger stores every customer's value sealed (a directory of 0.1.0, which did not, is sealed
// by its migration, layout_migration.h).
void require_sealed(const SealPlace& place, std::string_view value);

// The first 9 bytes of every value sealed for `customer`: the format byte and its marker.
std::string sealed_header(std::uint64_t customer);

// `plaintext` sealed under `key` at `place`, with a fresh random nonce. Throws
// std::runtime_error when OpenSSL fails.
std::string seal(const DataKey& key, const SealPlace& place, std::string_view plaintext);

// Opens `sealed` into `out` (resized to the plaintext's length). Throws CorruptionError naming
// the place when the value is not sealed for that customer, was moved from elsewhere, was
// altered, or `key` is not the one it was sealed with.
void open_sealed(const DataKey& key, const SealPlace& place, std::string_view sealed, std::string& out);
// The same into `out`, which must hold sealed.size() − kSealedOverheadBytes bytes.
void open_sealed(const DataKey& key, const SealPlace& place, std::string_view sealed, char* out);

// Where a place is, for messages: "log entry 12 (customer id 7)" or "the state of customer id 7".
std::string describe(const SealPlace& place);

}  // namespace ledger::eventstore
