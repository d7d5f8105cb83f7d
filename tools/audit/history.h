// One customer's history for auditors: every entry of its stream with who, when, and the fields
// it changed (old -> new). Reads only; thread-safe as far as the Reader is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer.h"
#include "eventstore/reader.h"
#include "tools/common/history_format.h"

namespace ledger::tools {

// The customer holding `number` now (a reused number: only the current holder), oldest first.
// Empty when no customer holds it.
std::vector<HistoryStep> history_by_number(const eventstore::Reader& reader, domain::CustomerNumber number);
// Every entry of customer `id`, stubs of a purged customer included. Scans the whole log.
std::vector<HistoryStep> history_by_id(const eventstore::Reader& reader, domain::CustomerId id);

}  // namespace ledger::tools
