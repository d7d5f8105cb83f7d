// Customer fields that look like an office's records, for the benchmarks that search: first
// names and surnames of several countries, some not in ASCII (German, French, Nordic, Polish,
// Czech, Vietnamese, Greek, Cyrillic, Chinese, Korean), drawn so that a few are common and
// most are rare, with surnames made of syllables for a long tail; e-mail addresses made from
// the names at a few large and many company domains; phone numbers in several national
// formats. So 3-letter fragments of them match anything from a few customers to most.
//
// Pure: customer `i` always gets the same fields, whoever asks. Thread-safe.
#pragma once

#include <cstdint>

#include "domain/customer.h"

namespace ledger::bench {

// The fields of customer `i` (0, 1, 2, ...); every field is valid (domain/validation.h), and
// none holds "qq".
domain::CustomerFields varied_customer_fields(std::uint64_t i);

}  // namespace ledger::bench
