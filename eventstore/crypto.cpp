#include "eventstore/crypto.h"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "eventstore/encoding.h"

namespace ledger::eventstore {

Digest sha256(std::string_view bytes) {
  Digest out;
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  return out;
}

Digest hmac_sha256(const StreamKey& key, std::string_view bytes) {
  Digest out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(bytes.data()),
       bytes.size(), out.data(), &len);
  return out;
}

StreamKey random_key() {
  StreamKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("OpenSSL could not produce random bytes for a customer key");
  }
  return key;
}

Digest chain_link(const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                  std::uint64_t customer, std::string_view actor, const Digest& digest, std::uint64_t number) {
  std::string input;
  input.reserve(32 + 8 + 8 + 2 + 8 + 2 + actor.size() + 32 + 8);
  input.append(as_bytes(previous));
  put_u64(input, seq);
  put_u64(input, static_cast<std::uint64_t>(at_us));
  put_u16(input, kind);
  put_u64(input, customer);
  put_u16(input, static_cast<std::uint16_t>(actor.size()));
  input.append(actor);
  input.append(as_bytes(digest));
  if (number != 0) put_u64(input, number);
  return sha256(input);
}

Digest merkle_root(const std::vector<Digest>& leaves) {
  if (leaves.empty()) return Digest{};
  std::vector<Digest> level;
  level.reserve(leaves.size());
  for (const auto& leaf : leaves) {
    std::string input(1, '\0');
    input.append(as_bytes(leaf));
    level.push_back(sha256(input));
  }
  while (level.size() > 1) {
    std::vector<Digest> next;
    next.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i < level.size(); i += 2) {
      if (i + 1 == level.size()) {
        next.push_back(level[i]);
        continue;
      }
      std::string input(1, '\x01');
      input.append(as_bytes(level[i]));
      input.append(as_bytes(level[i + 1]));
      next.push_back(sha256(input));
    }
    level = std::move(next);
  }
  return level.front();
}

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::string_view as_bytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

bool digest_from(std::string_view bytes, Digest& out) {
  if (bytes.size() != out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(bytes[i]);
  return true;
}

}  // namespace ledger::eventstore
