// SearchIndex: find customers by a fragment of name, email or phone without putting personal
// data into RocksDB keys (keys are copied into MANIFEST and index blocks, which compaction does
// not scrub). Each trigram of the normalized fields is hashed into one of 4,096 buckets; the
// `search` column family holds bucket ‖ customer id -> (empty). A bucket stands for many
// trigrams, so the keys say nothing usable about a name. Matches are confirmed against the
// customer's stored state. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"

namespace ledger::projections {

constexpr std::uint32_t kSearchBuckets = 4096;

// The buckets of a customer with these fields, ascending, each once: the customer has the row
// search_row(bucket, id) for each in the `search` family.
std::vector<std::uint16_t> search_buckets(const domain::CustomerFields& fields);
// A `search` row: bucket ‖ id.
std::string search_row(std::uint16_t bucket, domain::CustomerId id);

// Bucket sets a candidate must have all of, one set per way the query can match (as typed,
// and as digits only for phone-like queries). Empty when the query is shorter than 3 bytes
// after normalization: such queries are answered by scanning.
std::vector<std::vector<std::uint16_t>> query_buckets(std::string_view query);

// True when the customer's name, email or phone contains the query (ASCII case-insensitive;
// phone also compared digits-only).
bool matches(const domain::CustomerFields& fields, std::string_view query);

}  // namespace ledger::projections
