// One customer's history for auditors: every entry of its stream with who, when, and the fields
// it changed (old -> new). Reads only; thread-safe as far as the Reader is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "domain/customer.h"
#include "eventstore/reader.h"

namespace ledger::tools {

struct FieldDelta {
  std::string field;  // "name", ..., or "status"
  std::string before;
  std::string after;
};

struct HistoryStep {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string actor;
  std::string kind;
  std::uint64_t redacted_by = 0;  // a stub: what it changed is erased
  std::vector<FieldDelta> changes;
};

// The customer holding `number` now (a reused number: only the current holder), oldest first.
// Empty when no customer holds it.
std::vector<HistoryStep> history_by_number(const eventstore::Reader& reader, domain::CustomerNumber number);
// Every entry of customer `id`, stubs of a purged customer included. Scans the whole log.
std::vector<HistoryStep> history_by_id(const eventstore::Reader& reader, domain::CustomerId id);

boost::json::array history_json(const std::vector<HistoryStep>& steps);
std::string history_text(const std::vector<HistoryStep>& steps);

}  // namespace ledger::tools
