// The hash of a token as the tokens file stores it (server/tokens.h). Apart from the tokens
// table so that a tool can hash a token without linking the server: this needs OpenSSL alone.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ledger::server {

// Hex SHA-256 of a token, lowercase: the form the tokens file stores.
std::string token_hash_hex(std::string_view token);

}  // namespace ledger::server
