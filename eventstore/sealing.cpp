#include "eventstore/sealing.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
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
    OPENSSL_cleanse(last_key_.data(), last_key_.size());
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
    // A value is often sealed or opened right after another of the same customer (an entry and
    // its state): the key schedule is then kept and only the nonce and the direction set (GCM
    // runs AES forwards both ways, so one schedule serves both). Another key replaces the
    // schedule in the context as it is: naming the cipher again would make OpenSSL free and
    // allocate the provider's context, several times the cost of the key schedule itself.
    const bool same_key = have_key_ && key == last_key_;
    check(EVP_CipherInit_ex2(context_, have_key_ ? nullptr : cipher_, same_key ? nullptr : key.data(), nonce,
                             sealing ? 1 : 0, nullptr),
          "start AES-256-GCM");
    if (!same_key) {
      last_key_ = key;
      have_key_ = true;
    }
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
  DataKey last_key_{};  // the key the context holds
  bool have_key_ = false;
  std::array<unsigned char, 4096> block_{};
  std::size_t used_ = block_.size();
};

Sealer& sealer() {
  thread_local Sealer kept;
  return kept;
}

constexpr std::size_t kAadBytes = 1 + 8 + 8 + kSealedHeaderBytes;

// family ‖ u64 customer ‖ u64 seq ‖ header
std::array<char, kAadBytes> associated_data(const SealPlace& place, std::string_view header) {
  std::array<char, kAadBytes> aad{};
  aad[0] = static_cast<char>(place.family);
  store_u64(aad.data() + 1, place.customer);
  store_u64(aad.data() + 9, place.seq);
  std::copy_n(header.data(), kSealedHeaderBytes, aad.data() + 17);
  return aad;
}

}  // namespace

bool is_sealed(std::string_view value) {
  return !value.empty() && static_cast<std::uint8_t>(value.front()) == kSealedFormat;
}

void require_sealed(const SealPlace& place, std::string_view value) {
  if (value.size() < kSealedOverheadBytes || !is_sealed(value)) {
    throw CorruptionError(describe(place) + " is not a sealed value (the ledger stores none unsealed)");
  }
}

std::string sealed_header(std::uint64_t customer) {
  // The last customer's header, per thread: an entry and its state are sealed one after another.
  thread_local std::uint64_t last_customer = 0;
  thread_local std::string last_header;
  if (customer == last_customer && !last_header.empty()) return last_header;
  std::string input = "ledger.sealed";
  put_u64(input, customer);
  const auto digest = sha256(input);
  std::string header(1, static_cast<char>(kSealedFormat));
  header.append(reinterpret_cast<const char*>(digest.data()), 8);
  last_customer = customer;
  last_header = header;
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
  std::string out;
  out.reserve(kSealedOverheadBytes + plaintext.size());
  out = sealed_header(place.customer);
  const auto aad = associated_data(place, out);
  out.resize(kSealedOverheadBytes + plaintext.size());
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  unsigned char* nonce = bytes + kSealedHeaderBytes;
  s.nonce(nonce);
  unsigned char* body = nonce + kNonceBytes;
  s.run(true, key, nonce, {aad.data(), aad.size()}, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), body,
        body + plaintext.size());
  return out;
}

void open_sealed(const DataKey& key, const SealPlace& place, std::string_view sealed, char* out) {
  require_sealed(place, sealed);
  // The stored header is authenticated as it is (it is in the associated data beside the
  // customer's id), so a value that opens carries exactly the header sealed for this customer;
  // the expected header (a SHA-256) is computed only to say why a value does not open.
  const auto header = sealed.substr(0, kSealedHeaderBytes);
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* nonce = bytes + kSealedHeaderBytes;
  const unsigned char* body = nonce + kNonceBytes;
  const auto size = sealed.size() - kSealedOverheadBytes;
  // OpenSSL takes the expected tag as non-const; it only reads it.
  std::array<unsigned char, kTagBytes> tag;
  std::memcpy(tag.data(), body + size, kTagBytes);
  const auto aad = associated_data(place, header);
  if (!sealer().run(false, key, nonce, {aad.data(), aad.size()}, body, size, reinterpret_cast<unsigned char*>(out),
                    tag.data())) {
    if (header != sealed_header(place.customer)) {
      throw CorruptionError(describe(place) + " is sealed for another customer");
    }
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
