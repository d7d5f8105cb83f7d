// The `customers` column family's value: a customer's state as Cap'n Proto bytes.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "domain/customer.h"

namespace ledger::projections {

std::string encode_customer(const domain::Customer& customer);
// Throws eventstore::CorruptionError naming the customer id when the bytes are not a state.
domain::Customer decode_customer(std::string_view bytes, domain::CustomerId id);

}  // namespace ledger::projections
