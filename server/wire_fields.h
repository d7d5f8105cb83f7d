// The customer's fields and field names, and the kinds of events, as the wire protocol carries
// them (server/protocol.capnp): one mapping between the domain's types and the protocol's for
// the server, the tools and the tests. Pure; thread-safe.
#pragma once

#include <cstdint>

#include "domain/customer.h"
#include "domain/events.h"
#include "server/protocol.capnp.h"

namespace ledger::server {

// protocol::Field and domain::Field list the fields in the same order (the enums' ordinals).
inline protocol::Field wire_field(domain::Field field) {
  return static_cast<protocol::Field>(static_cast<std::uint16_t>(field));
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
