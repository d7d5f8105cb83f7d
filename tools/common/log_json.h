// How the tools write customers, events and log entries as JSON (Boost.JSON values), and times
// as text. This is the format of `ledger-audit export`, which `ledger-audit prove-purge` reads
// back; field names are documented in docs/tools.md. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "domain/customer.h"
#include "domain/events.h"
#include "eventstore/envelope.h"

namespace ledger::tools {

boost::json::object customer_json(const domain::Customer& customer);
boost::json::object fields_json(const domain::CustomerFields& fields);
// The event's values. Given `before` (the customer's state before the event), an edit also has
// "old": each field it changes with its value before the edit; without it, or for any other
// event, there is no "old".
boost::json::object event_json(const domain::Event& event, const domain::Customer* before = nullptr);

// An entry with its envelope fields; the decoded event (event_json, with `before`) under "event"
// unless it is a stub ("stub": true, no payload). Digests and chain in lowercase hex. Throws
// CorruptionError when an unredacted payload cannot be decoded.
boost::json::object envelope_json(const eventstore::Envelope& envelope, const domain::Customer* before = nullptr);

// "2024-05-01T12:00:00.000123Z" (UTC).
std::string format_time(std::int64_t at_us);
// Accepts the format above (fraction optional, 'Z' or no zone meaning UTC), a date alone
// (midnight UTC), or an integer count of microseconds since the epoch. nullopt otherwise.
std::optional<std::int64_t> parse_time(std::string_view text);

// Reads 64 hex digits; false otherwise.
bool digest_from_hex(std::string_view hex, eventstore::Digest& out);

// One compact JSON document on one line.
std::string to_line(const boost::json::value& value);

}  // namespace ledger::tools
