# The ledger's wire protocol: what clients send to ledgerd and what it answers.
# Every frame is one message of this schema in the standard Cap'n Proto stream framing
# (segment table, then segments). See docs/protocol.md.
#
# A schema is forever: fields may be renamed, an ordinal is never renumbered or reused.
#
# It imports nothing: the capnp tool alone compiles it (`capnp compile -o<lang> protocol.capnp`).
# The C++ build gives its generated code a namespace without changing this file. A log entry's
# payload (Entry.payload) is an Event of domain/events.capnp, which imports nothing either.
@0x99f386583da7a57b;

enum Role {
  clerk @0;    # customer commands and reads
  auditor @1;  # reads, history, stats, subscriptions
  admin @2;    # everything, cleanup included
}

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

# ---------------------------------------------------------------- requests

struct Hello {
  token @0 :Text;
}

struct Create {
  fields @0 :CustomerFields;
  number @1 :UInt64;        # 0: the lowest free number; else from 1 to 999999999999 (twelve
                            # digits, exact as a JSON double), the range every customer number
                            # takes; another is refused as invalidField naming number
}

struct Edit {
  number @0 :UInt64;
  changes @1 :List(FieldChange);
  expectRevision @2 :UInt64;  # 0: any revision
}

struct Numbers {
  numbers @0 :List(UInt64);
}

struct Purge {
  confirm @0 :Bool;           # must be true: a cleanup cannot be undone
  expectCount @1 :Int64 = -1; # -1: any count; else refused unless exactly this many are deleted
  wait @2 :Bool;              # answer after the erasure pass reports (see docs/protocol.md)
}

struct Get {
  number @0 :UInt64;
}

struct ListCustomers {
  deleted @0 :Bool;  # false: the active list
  after @1 :UInt64;  # numbers greater than this
  limit @2 :UInt32;  # 0: 100; at most 1000: a larger limit is served as 1000 (not refused)
  search @3 :Text;   # empty: no filter; else a fragment of name, email or phone, compared after
                     # full Unicode case folding (NFKC_Casefold): STRASSE finds Straße
}

struct History {
  number @0 :UInt64;
}

struct Subscribe {
  fromSeq @0 :UInt64;  # 0 or 1: from the start of the log
}

struct Request {
  id @0 :UInt64;          # echoed in the response; the client's to choose
  requestKey @1 :Data;    # idempotency key (at most 64 bytes): a retry of the same command gets
                          # the first outcome; another command with it gets requestKeyReused
  union {
    hello @2 :Hello;
    create @3 :Create;
    edit @4 :Edit;
    delete @5 :Numbers;
    undelete @6 :Numbers;
    purge @7 :Purge;
    get @8 :Get;
    list @9 :ListCustomers;
    history @10 :History;
    stats @11 :Void;
    subscribe @12 :Subscribe;
    erasureReport @13 :UInt64;  # the seq of a purge: what its erasure pass reported
  }
}

# ---------------------------------------------------------------- responses

enum ErrorCode {
  internal @0;
  notFound @1;
  numberHeldByActive @2;
  numberHeldByDeleted @3;
  revisionConflict @4;
  invalidField @5;
  nothingToDo @6;
  forbidden @7;
  unauthenticated @8; # no hello first, or an unknown token: answered with the request's own id,
                      # then the connection is closed
  tooLarge @9;
  busy @10;
  alreadyDeleted @11;
  notDeleted @12;
  notConfirmed @13;
  countMismatch @14;
  badRequest @15;     # the bytes are not a valid request frame
  shuttingDown @16;
  timeout @17;        # hello, a frame in progress, or the connection idled too long
  tooSlow @18;        # a subscriber fell too far behind
  requestKeyReused @19;  # the request key was first used with another command; nothing was done
}

struct NumberProblem {
  number @0 :UInt64;
  code @1 :ErrorCode;
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;              # one line: what is wrong and what to do; never field values
  field @2 :Text;                # invalidField: which field or argument
  numbers @3 :List(NumberProblem);  # delete / undelete: every offending number
}

struct Welcome {
  principal @0 :Text;
  role @1 :Role;
}

struct Written {
  number @0 :UInt64;
  id @1 :UInt64;
  revision @2 :UInt64;
  replayed @3 :Bool;   # the remembered outcome of an earlier request with this key
}

struct Changed {
  numbers @0 :List(UInt64);
  replayed @1 :Bool;
}

struct Erasure {
  state @0 :Text;   # deprecated, read erasureState (still sent): "pending", "done" or "failed"
  report @1 :Text;  # deprecated, read erasureReport (still sent): the erasure pass's report as
                    # JSON (docs/storage.md names its fields), "{}" while pending
  erasureState @2 :ErasureState;    # state, typed
  erasureReport @3 :ErasureReport;  # report, typed; not set while pending
  receipt @4 :PurgeReceipt;         # what the purge erased, from its log entry
}

# A purge's receipt as its log entry records it (domain/events.capnp CustomersPurged;
# docs/erasure.md): ledger-audit checks the Merkle root against an export.
struct PurgeReceipt {
  purged @0 :UInt64;                # customers erased
  numbersFreed @1 :List(UInt64);
  entriesRedacted @2 :UInt64;       # log entries of theirs replaced by stubs, all customers
  merkleRoot @3 :Data;              # SHA-256 Merkle root over the redacted entries' digests
}

# Where a purge's erasure stands (docs/erasure.md). A client that does not know an enumerant
# (one added later) treats it as not verified.
enum ErasureState {
  pending @0;      # no erasure pass has reported on the purge yet, or the wait ended first
  verified @1;     # a pass ran to its end and found nothing of the purged customers left
  notVerified @2;  # a pass reported without verifying: residue, stray or undecodable files, an
                   # unredacted entry, no quiescence, key bytes left or an error (see the
                   # report); the purge stays pending and the next pass covers it
}

# What the scan could look for: probes from every purged entry, from some of them (after a
# restart, old versions were gone before they could be read), or no probe at all.
enum ErasureCheck {
  probed @0;
  partlyProbed @1;
  nothingToProbe @2;
}

struct ResidueFile {
  file @0 :Text;   # relative to the data directory, or rocksdb:<family> for hidden versions
  hits @1 :UInt64;
}

# The purged customers' keys destroyed beside the pass (unreadable in the JSON): from then on
# no copy of their sealed values opens anywhere.
struct KeyDestruction {
  verified @0 :Bool;        # no byte of a destroyed key left in the key store's files
  atUs @1 :Int64;           # when that check ended, microseconds since the Unix epoch
  ms @2 :UInt64;            # the delete, flush, compaction and check
  customers @3 :UInt64;     # customers whose keys were to be destroyed
  keysDeleted @4 :UInt64;   # of them, those whose keys were still stored
  keysProbed @5 :UInt64;    # whose key bytes were searched for afterwards
  filesScanned @6 :UInt64;
  bytesScanned @7 :UInt64;
  residueFiles @8 :List(Text);  # key store files still holding a destroyed key's bytes
}

# The erasure pass's report: the JSON report's fields, typed (docs/storage.md, Meta keys).
# Counts, times and file names; never data.
struct ErasureReport {
  purgeSeqs @0 :List(UInt64);   # the purges the pass covered, ascending
  verified @1 :Bool;
  check @2 :ErasureCheck;
  startedAtUs @3 :Int64;        # microseconds since the Unix epoch
  durationMs @4 :UInt64;
  probeFilterMs @5 :UInt64;
  flushMs @6 :UInt64;
  compactionMs @7 :UInt64;
  verifyMs @8 :UInt64;
  probes @9 :UInt64;            # probes searched for
  probesShared @10 :UInt64;     # dropped: also in surviving data
  purgedEntries @11 :UInt64;    # log entries the purges redacted
  entriesProbed @12 :UInt64;    # of them, those the probes were taken from
  filesScanned @13 :UInt64;
  bytesScanned @14 :UInt64;
  sstFiles @15 :UInt64;
  sstEntries @16 :UInt64;
  versionsScanned @17 :UInt64;
  residue @18 :UInt64;          # probe hits, all files together
  residueFiles @19 :List(ResidueFile);
  strayFiles @20 :List(Text);   # SST, WAL, blob or trash files outside the live set
  unverifiableFiles @21 :List(Text);  # files that could not be decoded
  unredactedEntries @22 :List(UInt64);  # seqs of entries of a purged customer left whole
  quiescent @23 :Bool;
  bytesBefore @24 :UInt64;      # the data directory's size when the pass started
  bytesAfter @25 :UInt64;       # and when it finished
  bytesReclaimed @26 :Int64;    # before minus after; negative when commands kept writing
  compactionRanges @27 :UInt64;    # CompactRange calls, whole families included
  compactedFiles @28 :UInt64;      # live SST files that held a purged key
  compactedFileBytes @29 :UInt64;  # their size
  liveSstBytes @30 :UInt64;        # every live SST file's size when the compaction started
  unreadable @31 :KeyDestruction;  # not set in reports from before the key store
  error @32 :Text;              # an I/O failure that ended the pass early; empty if none
}

struct Purged {
  purged @0 :UInt64;
  numbersFreed @1 :List(UInt64);
  seq @2 :UInt64;          # the CustomersPurged entry
  erasure @3 :Erasure;
  replayed @4 :Bool;
}

enum Status {
  active @0;
  deleted @1;
}

struct Customer {
  number @0 :UInt64;
  id @1 :UInt64;
  status @2 :Status;
  revision @3 :UInt64;
  fields @4 :CustomerFields;
}

struct Page {
  customers @0 :List(Customer);
  next @1 :UInt64;  # the `after` of the next page; 0 when this page is the last
}

# One field an event changed: its value before and after.
struct ChangedField {
  field @0 :Field;
  oldValue @1 :Text;  # empty when the customer had no value (always, for a created customer)
  newValue @2 :Text;
}

struct HistoryEvent {
  seq @0 :UInt64;
  at @1 :Int64;           # microseconds since the Unix epoch
  actor @2 :Text;
  kind @3 :Text;          # "CustomerCreated", "CustomerEdited", "CustomerDeleted", "CustomerUndeleted"
  changes @4 :List(FieldChange);  # new values only (changedFields has both): created: every
                                  # non-empty field; edited: the changed ones
  changedFields @5 :List(ChangedField);  # what the event changed, old and new value: created:
                                         # every non-empty field (old empty); edited: the
                                         # fields it changed; deleted, undeleted: none
  eventKind @6 :EventKind;  # kind, typed
}

struct HistoryPage {
  events @0 :List(HistoryEvent);
}

struct Stats {
  nextSeq @0 :UInt64;
  batches @1 :UInt64;     # group commits written (fsyncs)
  commands @2 :UInt64;    # commands answered by the writer
  connections @3 :UInt32; # open connections
  active @4 :UInt64;      # active customers (counted up to 1,000,000)
  deleted @5 :UInt64;     # deleted customers (counted up to 1,000,000)
  decideCpuNs @6 :UInt64; # writer CPU time spent deciding, projecting and encoding commands
  writeCpuNs @7 :UInt64;  # writer CPU time spent writing batches and answering (not the fsync wait)
  chainHead @8 :Data;     # the hash chain's head: the chain digest of entry nextSeq - 1 (32 zero
                          # bytes for an empty log)
}

# What a log entry records. Each ordinal is the number Entry.kind carries for it (the ordinal
# in domain/events.capnp's Event union + 1). unknown is never sent: a field a server older than
# this enum leaves unset reads as unknown, and Entry.kind then says what the entry is.
enum EventKind {
  unknown @0;
  created @1;
  edited @2;
  deleted @3;
  undeleted @4;
  purged @5;
}

# One log entry, as stored (eventstore/envelope.capnp); stubs have an empty payload and
# redactedBy != 0.
struct Entry {
  seq @0 :UInt64;
  at @1 :Int64;
  actor @2 :Text;
  customer @3 :UInt64;
  kind @4 :UInt16;        # deprecated, read eventKind (still sent): 1 created, 2 edited,
                          # 3 deleted, 4 undeleted, 5 purged
  payload @5 :Data;       # a domain/events.capnp Event, as one message in the standard stream
                          # framing (segment table, then segments; unpacked), as a frame of this
                          # protocol is; empty in a stub
  digest @6 :Data;
  chain @7 :Data;
  redactedBy @8 :UInt64;
  request @9 :Data;       # the idempotency key it was written with; empty for stubs
  number @10 :UInt64;     # the customer's number, also in stubs; 0 for a purge and for entries
                          # written before entries carried it. In the chain link when not 0.
  eventKind @11 :EventKind;  # what the entry records; its ordinal is kind's number
}

struct Response {
  id @0 :UInt64;  # the request's id; 0 for an error about the connection itself
  union {
    error @1 :Error;
    welcome @2 :Welcome;      # hello
    written @3 :Written;      # create, edit
    changed @4 :Changed;      # delete, undelete
    purged @5 :Purged;        # purge
    customer @6 :Customer;    # get
    page @7 :Page;            # list
    history @8 :HistoryPage;  # history
    stats @9 :Stats;          # stats
    subscribed @10 :UInt64;   # subscribe: the first seq that will be sent
    entry @11 :Entry;         # subscribe: one per log entry, then live
    erasure @12 :Erasure;     # erasureReport
  }
}
