// Tokens: who may connect and with which role. The tokens file has one principal per line,
// `NAME ROLE SHA256HEX` (the hex SHA-256 of the token); blank lines and lines starting with '#'
// are ignored. Without a file, every client is an admin (ledgerd then listens on loopback only).
// Whoever can write the file can make themselves an admin, so a file that the group or others
// may write is refused, as are a hash on two lines and the hash of the empty token.
//
// Immutable after construction; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "server/protocol.capnp.h"
#include "server/token_hash.h"

namespace ledger::server {

enum class Role { kClerk, kAuditor, kAdmin };

std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct Principal {
  std::string name;
  Role role = Role::kClerk;
};

// Whether `role` may send a request of this kind (hello is always allowed).
bool role_allows(Role role, protocol::Request::Which request);

class TokenTable {
 public:
  // Every token is accepted as the admin "local".
  static TokenTable open_access();
  // Reads a tokens file. Returns an error naming the file, the line (both lines of a hash given
  // twice) and what to do when it cannot be used: unreadable, writable by the group or others,
  // a malformed line, a hash on two lines, the empty token's hash, no principal. Appends to
  // `*warnings` (when given) what does not stop it, such as a file that others may read.
  static domain::Result<TokenTable> load(const std::filesystem::path& file,
                                         std::vector<std::string>* warnings = nullptr);

  // The principal the token belongs to; nullopt for an unknown token. Compares hashes in
  // constant time.
  std::optional<Principal> authenticate(std::string_view token) const;
  bool open() const { return open_; }

 private:
  struct Entry {
    Principal principal;
    std::string hash_hex;
  };
  bool open_ = false;
  std::vector<Entry> entries_;
};

}  // namespace ledger::server
