# A customer's current state, the value of the `customers` column family.
# A schema is forever: never renumber or reuse an ordinal.
@0xef60b9a2fa028ed2;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ledger::projections::schema");
using Events = import "/domain/events.capnp";

enum Status {
  active @0;
  deleted @1;
}

struct CustomerState {
  id @0 :UInt64;
  number @1 :UInt64;
  status @2 :Status;
  revision @3 :UInt64;
  fields @4 :Events.CustomerFields;
}
