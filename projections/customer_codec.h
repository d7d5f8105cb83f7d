// The `customers` column family's value: a customer's state as Cap'n Proto bytes.
// The functions are pure and thread-safe; a CustomerEncoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"
#include "eventstore/key_store.h"

namespace ledger::projections {

std::string encode_customer(const domain::Customer& customer);

// encode_customer for one customer after another, into the same memory: the rebuild and verify
// encode every customer, and a message's first segment and flat copy allocated for each were
// a quarter of writing the customers' rows.
class CustomerEncoder {
 public:
  CustomerEncoder();
  // The bytes encode_customer gives; valid until the next call.
  std::string_view encode(const domain::Customer& customer);

 private:
  std::vector<std::uint64_t> first_segment_;  // zero between calls, as Cap'n Proto requires
  std::string bytes_;
};
// Throws eventstore::CorruptionError naming the customer id when the bytes are not a state.
domain::Customer decode_customer(std::string_view bytes, domain::CustomerId id);

// A `customers` value as stored: the encoded state sealed under the customer's data key
// (`key` when given, else from `keys`; eventstore/sealing.h). Throws eventstore::CorruptionError
// when the customer has no keys.
std::string seal_customer(const eventstore::KeyStore& keys, const domain::Customer& customer,
                          const eventstore::DataKey* key = nullptr);
// The state a stored `customers` value holds, opened with the customer's data key. Throws
// eventstore::CorruptionError naming the customer when it is not sealed, does not open or does
// not decode.
domain::Customer read_customer(const eventstore::KeyStore& keys, std::string_view stored, domain::CustomerId id);
// The same with the customer's keys at hand (nullopt: it has none): nullopt when there are no
// keys, as for a customer purged after `stored` was read.
std::optional<domain::Customer> read_customer(const std::optional<eventstore::CustomerKeys>& keys,
                                              std::string_view stored, domain::CustomerId id);

}  // namespace ledger::projections
