#include "eventstore/crypto.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <tuple>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "eventstore/encoding.h"

namespace ledger::eventstore {
namespace {

template <auto Free>
struct Freer {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};

template <typename T>
T* checked(T* p, const char* what) {
  if (!p) throw std::runtime_error(std::string("OpenSSL could not ") + what);
  return p;
}

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL could not ") + what);
}

// OpenSSL 3's one-shot SHA256() and HMAC() look their algorithm up by name and build and free a
// context on every call: for the few hundred bytes of an entry that is most of their cost (the
// writer hashes two or three times per command). So each thread keeps its contexts, the
// algorithms fetched once, from one call to the next. They hold no key between calls.
class Contexts {
 public:
  Contexts()
      : sha256_(checked(EVP_MD_fetch(nullptr, "SHA256", nullptr), "fetch SHA-256")),
        digest_(checked(EVP_MD_CTX_new(), "allocate a digest context")),
        hmac_(checked(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "fetch HMAC")),
        mac_(checked(EVP_MAC_CTX_new(hmac_.get()), "allocate a MAC context")) {
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                 OSSL_PARAM_construct_end()};
    check(EVP_MAC_CTX_set_params(mac_.get(), params), "set up HMAC-SHA256");
  }

  Digest sha256(std::string_view bytes) {
    Digest out;
    unsigned int size = 0;
    check(EVP_DigestInit_ex2(digest_.get(), sha256_.get(), nullptr), "start SHA-256");
    check(EVP_DigestUpdate(digest_.get(), bytes.data(), bytes.size()), "hash");
    check(EVP_DigestFinal_ex(digest_.get(), out.data(), &size), "finish SHA-256");
    return out;
  }

  Digest hmac_sha256(const StreamKey& key, std::string_view bytes) {
    Digest out;
    std::size_t size = 0;
    check(EVP_MAC_init(mac_.get(), key.data(), key.size(), nullptr), "start HMAC-SHA256");
    check(EVP_MAC_update(mac_.get(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()), "compute a MAC");
    check(EVP_MAC_final(mac_.get(), out.data(), &size, out.size()), "finish HMAC-SHA256");
    return out;
  }

 private:
  std::unique_ptr<EVP_MD, Freer<EVP_MD_free>> sha256_;
  std::unique_ptr<EVP_MD_CTX, Freer<EVP_MD_CTX_free>> digest_;
  std::unique_ptr<EVP_MAC, Freer<EVP_MAC_free>> hmac_;
  std::unique_ptr<EVP_MAC_CTX, Freer<EVP_MAC_CTX_free>> mac_;
};

Contexts& contexts() {
  thread_local Contexts kept;
  return kept;
}

}  // namespace

Digest sha256(std::string_view bytes) { return contexts().sha256(bytes); }

Digest hmac_sha256(const StreamKey& key, std::string_view bytes) { return contexts().hmac_sha256(key, bytes); }

StreamKey random_key() {
  StreamKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("OpenSSL could not produce random bytes for a customer key");
  }
  return key;
}

RandomKeys::~RandomKeys() { OPENSSL_cleanse(block_.data(), block_.size()); }

StreamKey RandomKeys::next() {
  if (used_ + StreamKey().size() > block_.size()) {
    if (RAND_bytes(block_.data(), static_cast<int>(block_.size())) != 1) {
      throw std::runtime_error("OpenSSL could not produce random bytes for customer keys");
    }
    used_ = 0;
  }
  StreamKey key;
  std::copy_n(block_.data() + used_, key.size(), key.data());
  OPENSSL_cleanse(block_.data() + used_, key.size());
  used_ += key.size();
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
