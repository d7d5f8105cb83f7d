// The event log: appending envelopes to a batch with the hash chain, reading them back, the
// per-customer stream index and keys, and redaction to stubs. Knows bytes and streams, not
// customers' fields.
//
// Functions that write take the batch being built and change nothing until it is written.
// Thread-safety: appends are made by the single writer; reads from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch_base.h>

#include "eventstore/crypto.h"
#include "eventstore/envelope.h"
#include "eventstore/reader.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {

// Where the next entry goes. Seq 0 is "before the first entry", whose chain is all zeroes.
struct LogHead {
  std::uint64_t next_seq = 1;
  Digest chain{};
  bool operator==(const LogHead&) const = default;
};

struct NewEntry {
  std::int64_t at_us = 0;
  std::string_view actor;
  std::string_view request;
  std::uint64_t customer = 0;  // 0: belongs to no stream (a purge)
  std::uint16_t kind = 0;
  std::string_view payload;
  std::uint64_t number = 0;  // the customer's number; 0 for a purge
};

// The head recorded in meta; a new database starts at seq 1.
LogHead load_head(const Reader& reader);

// Appends `entry` to `batch` as log row and stream index row (when entry.customer != 0), and
// advances `head`; store_head then records the head (once for any number of entries).
// digest = HMAC(*key, payload) when key is given, else SHA-256(payload). With `seal_with`, the
// payload is stored sealed under that data key (eventstore/sealing.h); the digest is always of
// the plaintext. Returns the envelope as a read gives it back (plaintext payload).
Envelope append_entry(Database& database, rocksdb::WriteBatchBase& batch, LogHead& head, const NewEntry& entry,
                      const StreamKey* key, const DataKey* seal_with = nullptr);

// Writes `head` into meta: what load_head reads. A batch of appended entries must hold it.
void store_head(Database& database, rocksdb::WriteBatchBase& batch, const LogHead& head);

// Appends `entry`, made by another ledger (a copy received through a subscription), as it is:
// log row, stream index row (unless it is a stub or a purge) and the head after it (its seq + 1
// and its chain). Checks nothing; verify_ledger does. With `seal_with` (the customer's data key in
// the copy's own key store) a plaintext payload is stored sealed, as append_entry stores one.
void append_copied_entry(Database& database, rocksdb::WriteBatchBase& batch, LogHead& head, const Envelope& entry,
                         const DataKey* seal_with = nullptr);

// The entry at `seq`, nullopt when there is none, its payload opened when sealed. Throws
// CorruptionError when unreadable (or sealed and its customer's keys are gone).
std::optional<Envelope> read_entry(const Reader& reader, std::uint64_t seq);

// Visits entries with seq >= from in order until `visit` returns false. Uses one iterator for
// the scan's duration (Reader::scan: the log's blocks do not enter the block cache): callers
// that must not pin files scan in slices. Throws CorruptionError naming the seq of an
// unreadable entry, StorageError when the scan fails.
void scan_entries(const Reader& reader, std::uint64_t from, const std::function<bool(const Envelope&)>& visit);
// The same with each entry read in place (EnvelopeDecoder): the view is valid only during the
// call. For passes over the whole log that keep little of each entry.
void scan_entry_views(const Reader& reader, std::uint64_t from, const std::function<bool(const EnvelopeView&)>& visit);

// The seqs of a customer's entries, ascending.
std::vector<std::uint64_t> stream_seqs(const Reader& reader, std::uint64_t customer);

struct StreamIndexRepair {
  std::uint64_t rows_added = 0;    // entries of a stream that had no row
  std::uint64_t rows_removed = 0;  // rows naming no unredacted entry of their stream
};

// Makes the stream index (family `streams`) exactly what the log implies: a row for every
// unredacted entry of a customer, and no other. Scans the whole log and the whole index,
// keeping 16 bytes per entry in memory, and writes only the differences, in one synced batch.
// For a directory that no writer has open. Throws CorruptionError naming the seq of an
// unreadable entry, StorageError when reading or writing fails.
StreamIndexRepair repair_stream_index(Database& database);

// The stream's HMAC key, from the key store; nullopt once destroyed by a purge.
std::optional<StreamKey> stream_key(const Reader& reader, std::uint64_t customer);

// The kRequests key of an idempotency key: scoped by actor and hashed, so that no
// client-chosen bytes reach a RocksDB key.
std::string request_row_key(std::string_view actor, std::string_view request);
// The same key's bytes, hashed with `hash`: for passes over every entry.
Digest request_row_key(Sha256& hash, std::string_view actor, std::string_view request);

struct Redaction {
  std::uint32_t entries = 0;
  // The redacted entries' seqs, ascending.
  std::vector<std::uint64_t> seqs;
  // The redacted entries' digests in seq order: the purge receipt's Merkle leaves.
  std::vector<Digest> digests;
};

// Redacts every entry of `customer`'s stream to a stub (payload and request cleared,
// redacted_by = purge_seq; seq, at, actor, kind, customer, digest, chain and number kept) and deletes its
// stream index rows, its key and the idempotency outcomes of its requests. It finds the entries
// through the stream index alone: the caller checks Redaction::entries against the number of
// entries it knows the stream has, since a missing index row would go unnoticed here. Throws
// CorruptionError when a row names an entry that is missing, already a stub or another stream's.
Redaction redact_stream(const Reader& reader, rocksdb::WriteBatchBase& batch, std::uint64_t customer,
                        std::uint64_t purge_seq);

}  // namespace ledger::eventstore
