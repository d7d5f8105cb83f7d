// The active and deleted lists as they were at a point of the log. Customers purged later are
// listed by number and id only, marked erased: their fields are gone from the log. Reads only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "domain/customer.h"
#include "eventstore/reader.h"

namespace ledger::tools {

struct ListedCustomer {
  domain::Customer customer;     // fields empty when erased
  std::uint64_t erased_by = 0;  // the later purge that erased it, else 0
};

struct LedgerAsOf {
  std::uint64_t seq = 0;  // the last entry included; 0: before the first
  std::int64_t at_us = 0;
  std::vector<ListedCustomer> active, deleted;  // by number
};

// The lists after entry `until` (clamped to the last entry).
LedgerAsOf ledger_as_of_seq(const eventstore::Reader& reader, std::uint64_t until);
// The lists after the last entry made at or before `at_us`.
LedgerAsOf ledger_as_of_time(const eventstore::Reader& reader, std::int64_t at_us);

boost::json::object as_of_json(const LedgerAsOf& ledger);
std::string as_of_text(const LedgerAsOf& ledger);

}  // namespace ledger::tools
