// A stored log entry (eventstore::Envelope) in the tools' JSON format (json_format.h, which this
// header brings with it): what `ledger-audit export` writes. Pure functions; thread-safe.
#pragma once

#include <boost/json.hpp>

#include "domain/customer.h"
#include "eventstore/envelope.h"
#include "tools/common/json_format.h"

namespace ledger::tools {

// entry_json of the envelope with its payload decoded (with `before`) unless it is a stub.
// Throws eventstore::CorruptionError when an unredacted payload cannot be decoded.
boost::json::object envelope_json(const eventstore::Envelope& envelope, const domain::Customer* before = nullptr);

}  // namespace ledger::tools
