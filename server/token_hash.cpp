#include "server/token_hash.h"

#include "eventstore/crypto.h"

namespace ledger::server {

std::string token_hash_hex(std::string_view token) { return eventstore::to_hex(eventstore::sha256(token)); }

}  // namespace ledger::server
