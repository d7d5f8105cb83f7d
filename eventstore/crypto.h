// Hashes for tamper evidence (OpenSSL): SHA-256, HMAC-SHA256, the chain link, Merkle roots,
// and random per-customer keys. The functions are pure and thread-safe (each thread keeps its
// own OpenSSL contexts from one call to the next); a Sha256 object and a RandomKeys are each used
// by one thread at a time. Throw std::runtime_error when OpenSSL fails.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

namespace ledger::eventstore {

using Digest = std::array<std::uint8_t, 32>;
using StreamKey = std::array<std::uint8_t, 32>;

Digest sha256(std::string_view bytes);
Digest hmac_sha256(const StreamKey& key, std::string_view bytes);
// 32 bytes from OpenSSL's CSPRNG. Throws std::runtime_error if it cannot be seeded.
StreamKey random_key();

// Random keys for a writer that makes many: drawn from OpenSSL's CSPRNG 4 KiB at a time, since
// one draw of 32 bytes costs about as much as hashing an entry. A key's bytes are wiped from the
// block as it is handed out. Not thread-safe: one object per writing thread.
class RandomKeys {
 public:
  RandomKeys() = default;
  RandomKeys(const RandomKeys&) = delete;
  RandomKeys& operator=(const RandomKeys&) = delete;
  ~RandomKeys();
  // Throws std::runtime_error if the CSPRNG cannot be seeded.
  StreamKey next();

 private:
  std::array<std::uint8_t, 4096> block_{};
  std::size_t used_ = block_.size();
};

// chain = SHA-256(previous ‖ seq ‖ at ‖ kind ‖ customer ‖ len(actor) ‖ actor ‖ digest [‖ number]),
// integers big-endian; the customer number is in the input only when it is not 0, so links
// written before entries carried it keep their value (docs/storage.md).
Digest chain_link(const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                  std::uint64_t customer, std::string_view actor, const Digest& digest, std::uint64_t number = 0);

// The same hashes from one OpenSSL context, made once and reused: for passes that hash every
// entry of the log, where the functions above look the algorithm up and make a context for
// each call. Gives exactly what they give.
class Sha256 {
 public:
  // Throws std::runtime_error when OpenSSL provides no SHA-256.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Hashes `bytes` after whatever was added since the last finish().
  void add(std::string_view bytes);
  // The digest of everything added since the last finish(); the next add() starts anew.
  Digest finish();

  Digest of(std::string_view bytes);
  Digest hmac(const StreamKey& key, std::string_view bytes);
  Digest chain_link(const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                    std::uint64_t customer, std::string_view actor, const Digest& digest, std::uint64_t number = 0);

 private:
  EVP_MD* md_ = nullptr;
  EVP_MD_CTX* context_ = nullptr;
  bool started_ = false;
};

// Binary SHA-256 Merkle tree: leaves are the digests; a node is SHA-256(0x01 ‖ left ‖ right),
// a leaf SHA-256(0x00 ‖ digest); an odd node is carried up unchanged. Empty: all zeroes.
Digest merkle_root(const std::vector<Digest>& leaves);

std::string to_hex(const std::uint8_t* bytes, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& bytes) {
  return to_hex(bytes.data(), N);
}
std::string_view as_bytes(const Digest& digest);
// Copies exactly 32 bytes; false when `bytes` is another size.
bool digest_from(std::string_view bytes, Digest& out);

}  // namespace ledger::eventstore
