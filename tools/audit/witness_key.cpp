#include "tools/audit/witness_key.h"

#include <array>
#include <cstdio>
#include <vector>

#include <openssl/pem.h>

#include "eventstore/crypto.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

constexpr const char* kHowToMake =
    "make a key with `openssl genpkey -algorithm ed25519 -out KEY.pem` and its public half with "
    "`openssl pkey -in KEY.pem -pubout -out KEY.pub.pem`";

struct CloseFile {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
struct FreeContext {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

std::unique_ptr<std::FILE, CloseFile> open_pem(const std::string& path) {
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "r"));
  if (!file) throw ToolError("cannot read the key file " + path);
  return file;
}

}  // namespace

WitnessKey::WitnessKey(std::unique_ptr<EVP_PKEY, Free> key, bool is_private, const std::string& path)
    : key_(std::move(key)), private_(is_private) {
  if (EVP_PKEY_id(key_.get()) != EVP_PKEY_ED25519) throw ToolError(path + " is not an Ed25519 key: " + kHowToMake);
  std::array<std::uint8_t, 32> raw{};
  std::size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &size) != 1 || size != raw.size()) {
    throw ToolError("cannot read the public key of " + path);
  }
  id_ = eventstore::to_hex(eventstore::sha256(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())));
}

WitnessKey WitnessKey::load_private(const std::string& path) {
  auto file = open_pem(path);
  std::unique_ptr<EVP_PKEY, Free> key(PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr));
  if (!key) throw ToolError(path + " holds no private key in PEM: " + kHowToMake);
  return WitnessKey(std::move(key), true, path);
}

WitnessKey WitnessKey::load_public(const std::string& path) {
  auto file = open_pem(path);
  std::unique_ptr<EVP_PKEY, Free> key(PEM_read_PUBKEY(file.get(), nullptr, nullptr, nullptr));
  if (!key) {
    std::rewind(file.get());
    key.reset(PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr));
  }
  if (!key) throw ToolError(path + " holds no public key in PEM: " + kHowToMake);
  return WitnessKey(std::move(key), false, path);
}

std::string WitnessKey::sign(std::string_view text) const {
  if (!private_) throw ToolError("signing needs the private key");
  std::unique_ptr<EVP_MD_CTX, FreeContext> context(EVP_MD_CTX_new());
  std::array<std::uint8_t, 64> signature{};
  std::size_t size = signature.size();
  // Ed25519 hashes the message itself: no digest is named, and the whole text goes in one call.
  if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(context.get(), signature.data(), &size, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      size != signature.size()) {
    throw ToolError("OpenSSL could not sign the witness line");
  }
  return eventstore::to_hex(signature);
}

bool WitnessKey::verify(std::string_view text, std::string_view signature_hex) const {
  if (signature_hex.size() != 128) return false;
  eventstore::Digest first{}, second{};
  if (!digest_from_hex(signature_hex.substr(0, 64), first) || !digest_from_hex(signature_hex.substr(64), second)) return false;
  std::array<std::uint8_t, 64> signature{};
  std::copy(first.begin(), first.end(), signature.begin());
  std::copy(second.begin(), second.end(), signature.begin() + 32);
  std::unique_ptr<EVP_MD_CTX, FreeContext> context(EVP_MD_CTX_new());
  return context && EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(context.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
}

}  // namespace ledger::tools
