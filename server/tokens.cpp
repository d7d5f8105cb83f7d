#include "server/tokens.h"

#include <fstream>
#include <sstream>

#include <openssl/crypto.h>

#include "eventstore/crypto.h"

namespace ledger::server {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kClerk: return "clerk";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "clerk") return Role::kClerk;
  if (name == "auditor") return Role::kAuditor;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool role_allows(Role role, protocol::Request::Which request) {
  using W = protocol::Request::Which;
  if (request == W::HELLO || role == Role::kAdmin) return true;
  switch (request) {
    case W::CREATE:
    case W::EDIT:
    case W::DELETE:
    case W::UNDELETE:
      return role == Role::kClerk;
    case W::GET:
    case W::LIST:
    case W::HISTORY:
      return true;
    case W::STATS:
    case W::SUBSCRIBE:
    case W::ERASURE_REPORT:
      return role == Role::kAuditor;
    default:
      return false;  // purge, and kinds this server does not know
  }
}

std::string token_hash_hex(std::string_view token) { return eventstore::to_hex(eventstore::sha256(token)); }

TokenTable TokenTable::open_access() {
  TokenTable table;
  table.open_ = true;
  return table;
}

domain::Result<TokenTable> TokenTable::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return domain::Error{"cannot read tokens file " + file.string()};
  TokenTable table;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string name, role, hash, extra;
    if (!(words >> name) || name.front() == '#') continue;
    const auto where = file.string() + ":" + std::to_string(number);
    if (!(words >> role >> hash) || (words >> extra)) {
      return domain::Error{where + ": expected NAME ROLE SHA256HEX"};
    }
    auto parsed = parse_role(role);
    if (!parsed) return domain::Error{where + ": role must be clerk, auditor or admin"};
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return domain::Error{where + ": the hash must be 64 hex digits (ledgerctl hash-token prints it)"};
    }
    for (auto& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    table.entries_.push_back({{name, *parsed}, hash});
  }
  if (table.entries_.empty()) return domain::Error{"tokens file " + file.string() + " names no principal"};
  return table;
}

std::optional<Principal> TokenTable::authenticate(std::string_view token) const {
  if (open_) return Principal{"local", Role::kAdmin};
  const auto hash = token_hash_hex(token);
  std::optional<Principal> found;
  for (const auto& entry : entries_) {
    if (CRYPTO_memcmp(entry.hash_hex.data(), hash.data(), hash.size()) == 0) found = entry.principal;
  }
  return found;
}

}  // namespace ledger::server
