#include "eventstore/crypto.h"

#include <cstring>
#include <stdexcept>
#include <tuple>

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

namespace {

// The chain link's input is prefix ‖ actor ‖ suffix; both functions below hash exactly that.
constexpr std::size_t kChainPrefixSize = 32 + 8 + 8 + 2 + 8 + 2;
constexpr std::size_t kChainSuffixMaxSize = 32 + 8;

void chain_prefix(char* out, const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                  std::uint64_t customer, std::size_t actor_size) {
  std::memcpy(out, previous.data(), 32);
  store_u64(out + 32, seq);
  store_u64(out + 40, static_cast<std::uint64_t>(at_us));
  store_u16(out + 48, kind);
  store_u64(out + 50, customer);
  store_u16(out + 58, static_cast<std::uint16_t>(actor_size));
}

// Returns the suffix's size: the number is in the input only when it is not 0.
std::size_t chain_suffix(char* out, const Digest& digest, std::uint64_t number) {
  std::memcpy(out, digest.data(), 32);
  if (number == 0) return 32;
  store_u64(out + 32, number);
  return 40;
}

}  // namespace

Digest chain_link(const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                  std::uint64_t customer, std::string_view actor, const Digest& digest, std::uint64_t number) {
  char prefix[kChainPrefixSize];
  char suffix[kChainSuffixMaxSize];
  chain_prefix(prefix, previous, seq, at_us, kind, customer, actor.size());
  std::string input;
  input.reserve(sizeof prefix + actor.size() + sizeof suffix);
  input.append(prefix, sizeof prefix);
  input.append(actor);
  input.append(suffix, chain_suffix(suffix, digest, number));
  return sha256(input);
}

Sha256::Sha256() {
  md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  context_ = EVP_MD_CTX_new();
  if (!md_ || !context_) {
    EVP_MD_CTX_free(context_);
    EVP_MD_free(md_);
    throw std::runtime_error("OpenSSL provides no SHA-256");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(context_);
  EVP_MD_free(md_);
}

void Sha256::add(std::string_view bytes) {
  if (!started_) {
    if (EVP_DigestInit_ex2(context_, md_, nullptr) != 1) throw std::runtime_error("OpenSSL could not start a SHA-256");
    started_ = true;
  }
  if (EVP_DigestUpdate(context_, bytes.data(), bytes.size()) != 1) throw std::runtime_error("OpenSSL could not hash");
}

Digest Sha256::finish() {
  if (!started_) add({});
  started_ = false;
  Digest out;
  if (EVP_DigestFinal_ex(context_, out.data(), nullptr) != 1) throw std::runtime_error("OpenSSL could not finish a SHA-256");
  return out;
}

Digest Sha256::of(std::string_view bytes) {
  add(bytes);
  return finish();
}

Digest Sha256::hmac(const StreamKey& key, std::string_view bytes) {
  // RFC 2104 with SHA-256's 64-byte block: the key, shorter than a block, padded with zeroes.
  constexpr std::size_t kBlock = 64;
  static_assert(std::tuple_size_v<StreamKey> <= kBlock);
  char inner_pad[kBlock];
  char outer_pad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    const auto k = i < key.size() ? key[i] : std::uint8_t{0};
    inner_pad[i] = static_cast<char>(k ^ 0x36);
    outer_pad[i] = static_cast<char>(k ^ 0x5c);
  }
  add({inner_pad, kBlock});
  add(bytes);
  const auto inner = finish();
  add({outer_pad, kBlock});
  add(as_bytes(inner));
  return finish();
}

Digest Sha256::chain_link(const Digest& previous, std::uint64_t seq, std::int64_t at_us, std::uint16_t kind,
                          std::uint64_t customer, std::string_view actor, const Digest& digest, std::uint64_t number) {
  char prefix[kChainPrefixSize];
  char suffix[kChainSuffixMaxSize];
  chain_prefix(prefix, previous, seq, at_us, kind, customer, actor.size());
  add({prefix, sizeof prefix});
  add(actor);
  add({suffix, chain_suffix(suffix, digest, number)});
  return finish();
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
  std::memcpy(out.data(), bytes.data(), out.size());
  return true;
}

}  // namespace ledger::eventstore
