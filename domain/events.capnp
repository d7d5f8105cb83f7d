# The customer events: past-tense facts, the payload of every log entry.
# A schema is forever: fields may be renamed, an ordinal is never renumbered or reused,
# so that every log ever written stays readable.
#
# Published with server/protocol.capnp (a subscription's Entry.payload is one Event message):
# it imports nothing, so the capnp tool alone compiles it.
@0x826e80515c4f3084;

enum Field {
  name @0;
  company @1;
  email @2;
  phone @3;
  address @4;
  notes @5;
}

struct CustomerFields {
  name @0 :Text;
  company @1 :Text;
  email @2 :Text;
  phone @3 :Text;
  address @4 :Text;
  notes @5 :Text;
}

struct FieldChange {
  field @0 :Field;
  value @1 :Text;
}

struct CustomerCreated {
  id @0 :UInt64;
  number @1 :UInt64;
  fields @2 :CustomerFields;
}

# Only the fields that changed, with their new values.
struct CustomerEdited {
  id @0 :UInt64;
  number @1 :UInt64;
  changes @2 :List(FieldChange);
}

struct CustomerDeleted {
  id @0 :UInt64;
  number @1 :UInt64;
}

struct CustomerUndeleted {
  id @0 :UInt64;
  number @1 :UInt64;
}

# One per cleanup. The receipt (entriesRedacted, merkleRoot) lets an auditor holding an
# export from before the purge prove that exactly these customers' entries were removed.
struct CustomersPurged {
  ids @0 :List(UInt64);
  numbers @1 :List(UInt64);
  # Per customer, in the order of ids: how many log entries were redacted to stubs.
  entriesRedacted @2 :List(UInt32);
  # SHA-256 Merkle root over the redacted entries' digests, ordered by (customer id, seq).
  merkleRoot @3 :Data;
}

struct Event {
  union {
    created @0 :CustomerCreated;
    edited @1 :CustomerEdited;
    deleted @2 :CustomerDeleted;
    undeleted @3 :CustomerUndeleted;
    purged @4 :CustomersPurged;
  }
}
