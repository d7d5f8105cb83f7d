// The customer's fields and field names, and the kinds of events, as the wire protocol carries
// them (server/protocol.capnp): one mapping between the domain's types and the protocol's for
// the server, the tools and the tests. Pure; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "domain/customer.h"
#include "domain/events.h"
#include "server/protocol.capnp.h"

namespace ledger::server {

// The one table between the domain's fields and the protocol's, read both ways below.
struct WireField {
  domain::Field domain;
  protocol::Field wire;
};
inline constexpr std::array<WireField, 6> kWireFields = {{
    {domain::Field::kName, protocol::Field::NAME},
    {domain::Field::kCompany, protocol::Field::COMPANY},
    {domain::Field::kEmail, protocol::Field::EMAIL},
    {domain::Field::kPhone, protocol::Field::PHONE},
    {domain::Field::kAddress, protocol::Field::ADDRESS},
    {domain::Field::kNotes, protocol::Field::NOTES},
}};

// Every domain::Field is in the table: the fallback answers only a value cast from an unchecked
// integer.
inline protocol::Field wire_field(domain::Field field) {
  for (const auto& entry : kWireFields) {
    if (entry.domain == field) return entry.wire;
  }
  return kWireFields.front().wire;
}

// The domain's field for a field the protocol sent; nullopt for one this server does not know
// (a newer client's).
inline std::optional<domain::Field> domain_field(protocol::Field field) {
  for (const auto& entry : kWireFields) {
    if (entry.wire == field) return entry.domain;
  }
  return std::nullopt;
}

// protocol::EventKind's ordinals are the stored kind numbers (domain::EventKind); a number no
// event kind has is sent as unknown.
inline protocol::EventKind wire_event_kind(std::uint16_t stored_kind) {
  const bool known = stored_kind >= static_cast<std::uint16_t>(domain::EventKind::kCreated) &&
                     stored_kind <= static_cast<std::uint16_t>(domain::EventKind::kPurged);
  return known ? static_cast<protocol::EventKind>(stored_kind) : protocol::EventKind::UNKNOWN;
}

inline void set_wire_fields(protocol::CustomerFields::Builder out, const domain::CustomerFields& f) {
  out.setName(f.name);
  out.setCompany(f.company);
  out.setEmail(f.email);
  out.setPhone(f.phone);
  out.setAddress(f.address);
  out.setNotes(f.notes);
}

}  // namespace ledger::server
