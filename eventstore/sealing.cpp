#include "eventstore/sealing.h"

#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"

namespace ledger::eventstore {
namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL could not ") + what);
}

// One cipher context per thread, and nonces drawn 4 KiB at a time: a draw from the CSPRNG costs
// about as much as sealing a value.
class Sealer {
 public:
  Sealer()
      : cipher_(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)), context_(EVP_CIPHER_CTX_new()) {
    if (!cipher_ || !context_) throw std::runtime_error("OpenSSL provides no AES-256-GCM");
  }
  ~Sealer() {
    EVP_CIPHER_CTX_free(context_);
    EVP_CIPHER_free(cipher_);
  }
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  void nonce(unsigned char* out) {
    if (used_ + kNonceBytes > block_.size()) {
      check(RAND_bytes(block_.data(), static_cast<int>(block_.size())), "produce random nonces");
      used_ = 0;
    }
    std::memcpy(out, block_.data() + used_, kNonceBytes);
    used_ += kNonceBytes;
  }

  // AES-256-GCM over `in` into `out` (same length); `tag` is written when sealing, checked when
  // opening. False when opening fails the tag check.
  bool run(bool sealing, const DataKey& key, const unsigned char* nonce, std::string_view aad, const unsigned char* in,
           std::size_t size, unsigned char* out, unsigned char* tag) {
    check(EVP_CipherInit_ex2(context_, cipher_, key.data(), nonce, sealing ? 1 : 0, nullptr), "start AES-256-GCM");
    int written = 0;
    check(EVP_CipherUpdate(context_, nullptr, &written, reinterpret_cast<const unsigned char*>(aad.data()),
                           static_cast<int>(aad.size())),
          "add associated data");
    if (size != 0) check(EVP_CipherUpdate(context_, out, &written, in, static_cast<int>(size)), "run AES-256-GCM");
    if (sealing) {
      check(EVP_CipherFinal_ex(context_, out + size, &written), "finish AES-256-GCM");
      check(EVP_CIPHER_CTX_ctrl(context_, EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag), "read the GCM tag");
      return true;
    }
    check(EVP_CIPHER_CTX_ctrl(context_, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag), "set the GCM tag");
    return EVP_CipherFinal_ex(context_, out + size, &written) == 1;
  }

 private:
  EVP_CIPHER* cipher_;
  EVP_CIPHER_CTX* context_;
  std::array<unsigned char, 4096> block_{};
  std::size_t used_ = block_.size();
};

Sealer& sealer() {
  thread_local Sealer kept;
  return kept;
}

// family ‖ u64 customer ‖ u64 seq ‖ header
std::string associated_data(const SealPlace& place, std::string_view header) {
  std::string aad;
  aad.reserve(1 + 16 + header.size());
  aad.push_back(static_cast<char>(place.family));
  put_u64(aad, place.customer);
  put_u64(aad, place.seq);
  aad.append(header);
  return aad;
}

}  // namespace

bool is_sealed(std::string_view value) {
  return !value.empty() && static_cast<std::uint8_t>(value.front()) == kSealedFormat;
}

std::string sealed_header(std::uint64_t customer) {
  std::string input = "ledger.sealed";
  put_u64(input, customer);
  const auto digest = sha256(input);
  std::string header(1, static_cast<char>(kSealedFormat));
  header.append(reinterpret_cast<const char*>(digest.data()), 8);
  return header;
}

std::string describe(const SealPlace& place) {
  if (place.family == SealedIn::kLog) {
    return "log entry " + std::to_string(place.seq) + " (customer id " + std::to_string(place.customer) + ")";
  }
  return "the state of customer id " + std::to_string(place.customer);
}

std::string seal(const DataKey& key, const SealPlace& place, std::string_view plaintext) {
  auto& s = sealer();
  std::string out = sealed_header(place.customer);
  const auto aad = associated_data(place, out);
  out.resize(kSealedOverheadBytes + plaintext.size());
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  unsigned char* nonce = bytes + kSealedHeaderBytes;
  s.nonce(nonce);
  unsigned char* body = nonce + kNonceBytes;
  s.run(true, key, nonce, aad, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), body,
        body + plaintext.size());
  return out;
}

void open_sealed(const DataKey& key, const SealPlace& place, std::string_view sealed, char* out) {
  if (sealed.size() < kSealedOverheadBytes || !is_sealed(sealed)) {
    throw CorruptionError(describe(place) + " is not a sealed value");
  }
  const auto header = sealed.substr(0, kSealedHeaderBytes);
  if (header != sealed_header(place.customer)) {
    throw CorruptionError(describe(place) + " is sealed for another customer");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* nonce = bytes + kSealedHeaderBytes;
  const unsigned char* body = nonce + kNonceBytes;
  const auto size = sealed.size() - kSealedOverheadBytes;
  // OpenSSL takes the expected tag as non-const; it only reads it.
  std::array<unsigned char, kTagBytes> tag;
  std::memcpy(tag.data(), body + size, kTagBytes);
  if (!sealer().run(false, key, nonce, associated_data(place, header), body, size, reinterpret_cast<unsigned char*>(out),
                    tag.data())) {
    throw CorruptionError(describe(place) +
                          " does not open under its customer's key: it was altered, moved from another entry, or the "
                          "key is not the one it was sealed with");
  }
}

void open_sealed(const DataKey& key, const SealPlace& place, std::string_view sealed, std::string& out) {
  out.resize(sealed.size() >= kSealedOverheadBytes ? sealed.size() - kSealedOverheadBytes : 0);
  open_sealed(key, place, sealed, out.data());
}

}  // namespace ledger::eventstore
