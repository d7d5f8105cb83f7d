// The customer's fields and field names as the wire protocol carries them
// (server/protocol.capnp): one mapping between domain::CustomerFields and
// protocol::CustomerFields for the server, the tools and the tests. Pure; thread-safe.
#pragma once

#include <cstdint>

#include "domain/customer.h"
#include "server/protocol.capnp.h"

namespace ledger::server {

// protocol::Field and domain::Field list the fields in the same order (the enums' ordinals).
inline protocol::Field wire_field(domain::Field field) {
  return static_cast<protocol::Field>(static_cast<std::uint16_t>(field));
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
