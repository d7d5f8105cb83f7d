# The log entry: one per event, keyed by seq in the `log` column family.
# A schema is forever: never renumber or reuse an ordinal.
@0xdfcaefe947a5079e;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ledger::eventstore::schema");

struct Envelope {
  seq @0 :UInt64;          # dense, global, from 1
  at @1 :Int64;            # microseconds since the Unix epoch
  actor @2 :Text;          # the principal that sent the command
  request @3 :Data;        # the client's idempotency key; empty in stubs
  customer @4 :UInt64;     # the stream (customer id); 0 for a purge
  kind @5 :UInt16;         # the event kind, kept in stubs
  payload @6 :Data;        # the event's Cap'n Proto bytes; empty in stubs
  digest @7 :Data;         # HMAC-SHA256(customer key, payload); SHA-256(payload) for a purge
  chain @8 :Data;          # SHA-256(previous chain ‖ seq ‖ at ‖ kind ‖ customer ‖ actor ‖ digest [‖ number])
  redactedBy @9 :UInt64;   # seq of the purge that redacted this entry, else 0
  number @10 :UInt64;      # the customer's number, kept in stubs and in the chain link; 0 for a
                           # purge and in entries written before this field (docs/storage.md)
}
