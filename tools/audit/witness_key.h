// Ed25519 keys for signing witness lines (tools/audit/witness.h), through OpenSSL's EVP API.
// The keys live outside the data directory, in PEM files the auditor keeps: a private key made
// with `openssl genpkey -algorithm ed25519 -out witness.pem`, its public half with
// `openssl pkey -in witness.pem -pubout -out witness.pub.pem`.
// A WitnessKey owns its OpenSSL key; it is a value that can be moved, not copied. Signing and
// checking do not change it, and one key may be used by several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace ledger::tools {

class WitnessKey {
 public:
  // Reads an Ed25519 private key (PEM). Throws ToolError naming the file and saying how to make
  // one when it cannot be read or is another kind of key.
  static WitnessKey load_private(const std::string& path);
  // Reads an Ed25519 public key (PEM), or the public half of a private key file. Throws
  // ToolError as load_private does.
  static WitnessKey load_public(const std::string& path);

  // 64 lowercase hex digits: SHA-256 of the raw 32-byte public key. Names the key in a line.
  const std::string& id() const { return id_; }
  bool can_sign() const { return private_; }

  // The Ed25519 signature of `text`, 128 hex digits. Only for a key from load_private; throws
  // ToolError when OpenSSL fails.
  std::string sign(std::string_view text) const;
  // True when `signature_hex` is 128 hex digits forming a valid signature of `text` by this key.
  bool verify(std::string_view text, std::string_view signature_hex) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  WitnessKey(std::unique_ptr<EVP_PKEY, Free> key, bool is_private, const std::string& path);

  std::unique_ptr<EVP_PKEY, Free> key_;
  bool private_ = false;
  std::string id_;
};

}  // namespace ledger::tools
