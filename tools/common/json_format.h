// How the tools write customers, events and log entries as JSON (Boost.JSON values), and times
// as text. This is the format of `ledger-audit export`, which `ledger-audit prove-purge` reads
// back, and of `ledgerctl watch --json`; field names are documented in docs/tools.md.
// Needs the domain and the hashes' hex, not the store: ledgerctl, which only receives entries,
// links it without RocksDB (a stored envelope's JSON is in log_json.h). Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "domain/customer.h"
#include "domain/events.h"
#include "eventstore/crypto.h"

namespace ledger::tools {

boost::json::object customer_json(const domain::Customer& customer);
boost::json::object fields_json(const domain::CustomerFields& fields);
// The event's values. Given `before` (the customer's state before the event), an edit also has
// "old": each field it changes with its value before the edit; without it, or for any other
// event, there is no "old".
boost::json::object event_json(const domain::Event& event, const domain::Customer* before = nullptr);

// A log entry's envelope fields as its JSON shows them, wherever the entry was read: from the
// store (envelope_json, log_json.h) or from ledgerd's protocol (ledgerctl watch). The strings
// view the entry's bytes and are valid as long as they are. Its own type because
// eventstore::Envelope's header is the database's too.
struct EntryView {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string_view actor;
  std::string_view request;
  std::uint64_t customer = 0;
  std::uint64_t number = 0;
  std::uint16_t kind = 0;
  eventstore::Digest digest{};
  eventstore::Digest chain{};
  std::uint64_t redacted_by = 0;

  bool redacted() const { return redacted_by != 0; }
};

// An entry with its envelope fields, digests, chain and request key in lowercase hex; a stub
// has "stub": true and no event, any other entry its decoded payload `event` (event_json, with
// `before`) under "event". Throws std::invalid_argument when `event` is null for an entry that
// is not a stub.
boost::json::object entry_json(const EntryView& entry, const domain::Event* event,
                               const domain::Customer* before = nullptr);

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
