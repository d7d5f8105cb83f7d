#include "eventstore/event_log.h"

#include <algorithm>

#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

constexpr std::string_view kHeadSeqKey = "log.next_seq";
constexpr std::string_view kHeadChainKey = "log.chain";

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

void put(Database& db, rocksdb::WriteBatchBase& batch, Family family, std::string_view key, std::string_view value) {
  Database::check(batch.Put(db.family(family), slice(key), slice(value)), "adding to batch");
}

void erase(Database& db, rocksdb::WriteBatchBase& batch, Family family, std::string_view key) {
  Database::check(batch.Delete(db.family(family), slice(key)), "adding to batch");
}

}  // namespace

LogHead load_head(const Reader& reader) {
  LogHead head;
  auto seq = reader.get(Family::kMeta, kHeadSeqKey);
  auto chain = reader.get(Family::kMeta, kHeadChainKey);
  if (!seq && !chain) return head;
  if (!seq || seq->size() != 8 || !chain || !digest_from(*chain, head.chain)) {
    throw CorruptionError("the log head in meta is corrupt");
  }
  head.next_seq = get_u64(*seq);
  return head;
}

Envelope append_entry(Database& database, rocksdb::WriteBatchBase& batch, LogHead& head, const NewEntry& entry,
                      const StreamKey* key, const DataKey* seal_with) {
  Envelope e;
  e.seq = head.next_seq;
  e.at_us = entry.at_us;
  e.actor = entry.actor;
  e.request = entry.request;
  e.customer = entry.customer;
  e.kind = entry.kind;
  e.payload = entry.payload;
  e.number = entry.number;
  e.digest = key ? hmac_sha256(*key, e.payload) : sha256(e.payload);
  e.chain = chain_link(head.chain, e);

  if (seal_with) {
    // Only the stored copy is sealed: the envelope returned holds the plaintext, as a read gives.
    auto sealed = seal(*seal_with, {SealedIn::kLog, e.customer, e.seq}, e.payload);
    std::swap(sealed, e.payload);
    put(database, batch, Family::kLog, u64_key(e.seq), encode_envelope(e));
    std::swap(sealed, e.payload);
  } else {
    put(database, batch, Family::kLog, u64_key(e.seq), encode_envelope(e));
  }
  if (e.customer != 0) put(database, batch, Family::kStreams, u64_pair_key(e.customer, e.seq), {});
  head.next_seq = e.seq + 1;
  head.chain = e.chain;
  return e;
}

void store_head(Database& database, rocksdb::WriteBatchBase& batch, const LogHead& head) {
  put(database, batch, Family::kMeta, kHeadSeqKey, u64_key(head.next_seq));
  put(database, batch, Family::kMeta, kHeadChainKey, as_bytes(head.chain));
}

void append_copied_entry(Database& database, rocksdb::WriteBatchBase& batch, LogHead& head, const Envelope& entry,
                         const DataKey* seal_with) {
  if (seal_with && !entry.payload.empty() && !is_sealed(entry.payload)) {
    Envelope stored = entry;
    stored.payload = seal(*seal_with, {SealedIn::kLog, entry.customer, entry.seq}, entry.payload);
    put(database, batch, Family::kLog, u64_key(entry.seq), encode_envelope(stored));
  } else {
    put(database, batch, Family::kLog, u64_key(entry.seq), encode_envelope(entry));
  }
  // A purge deletes its customers' stream rows, so a stub has none.
  if (entry.customer != 0 && !entry.redacted()) put(database, batch, Family::kStreams, u64_pair_key(entry.customer, entry.seq), {});
  head.next_seq = entry.seq + 1;
  head.chain = entry.chain;
  store_head(database, batch, head);
}

std::optional<Envelope> read_entry(const Reader& reader, std::uint64_t seq) {
  auto value = reader.get(Family::kLog, u64_key(seq));
  if (!value) return std::nullopt;
  auto entry = decode_envelope(*value, seq);
  open_payload(entry, reader.database().key_store());
  return entry;
}

void scan_entries(const Reader& reader, std::uint64_t from, const std::function<bool(const Envelope&)>& visit) {
  scan_entry_views(reader, from, [&](const EnvelopeView& e) { return visit(e.copy()); });
}

void scan_entry_views(const Reader& reader, std::uint64_t from, const std::function<bool(const EnvelopeView&)>& visit) {
  auto it = reader.scan(Family::kLog);
  EnvelopeDecoder decoder(&reader.database().key_store());
  const auto start = u64_key(from);
  for (it->Seek(start); it->Valid(); it->Next()) {
    const auto key = it->key();
    if (key.size() != 8) throw CorruptionError("a log key is not 8 bytes");
    const auto seq = get_u64(std::string_view(key.data(), key.size()));
    if (!visit(decoder.decode(std::string_view(it->value().data(), it->value().size()), seq))) return;
  }
  Database::check(it->status(), "scanning the log");
}

std::vector<std::uint64_t> stream_seqs(const Reader& reader, std::uint64_t customer) {
  std::vector<std::uint64_t> seqs;
  auto it = reader.iterate(Family::kStreams);
  const auto prefix = u64_key(customer);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 16) throw CorruptionError("a stream index key is not 16 bytes");
    seqs.push_back(get_u64(std::string_view(it->key().data(), 16), 8));
  }
  Database::check(it->status(), "reading a stream index");
  return seqs;
}

StreamIndexRepair repair_stream_index(Database& database) {
  DatabaseReader reader(database);
  // The log is in seq order and the index in (customer, seq) order: the rows the log implies are
  // gathered and sorted, then both are walked together.
  std::vector<std::string> expected;
  scan_entry_views(reader, 1, [&](const EnvelopeView& e) {
    if (e.customer != 0 && !e.redacted()) expected.push_back(u64_pair_key(e.customer, e.seq));
    return true;
  });
  std::sort(expected.begin(), expected.end());

  StreamIndexRepair repair;
  rocksdb::WriteBatch batch;
  auto next = expected.begin();
  auto it = reader.scan(Family::kStreams);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view row(it->key().data(), it->key().size());
    for (; next != expected.end() && *next < row; ++next, ++repair.rows_added) {
      put(database, batch, Family::kStreams, *next, {});
    }
    if (next != expected.end() && *next == row) {
      ++next;
    } else {
      erase(database, batch, Family::kStreams, row);
      ++repair.rows_removed;
    }
  }
  Database::check(it->status(), "reading the stream index");
  it.reset();
  for (; next != expected.end(); ++next, ++repair.rows_added) put(database, batch, Family::kStreams, *next, {});
  if (batch.Count() == 0) return repair;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(database.db().Write(sync, &batch), "repairing the stream index");
  return repair;
}

std::optional<StreamKey> stream_key(const Reader& reader, std::uint64_t customer) {
  if (auto keys = reader.database().key_store().get(customer)) return keys->hmac;
  return std::nullopt;
}

std::string request_row_key(std::string_view actor, std::string_view request) {
  std::string input;
  input.reserve(actor.size() + 1 + request.size());
  input.append(actor);
  input.push_back('\0');
  input.append(request);
  auto digest = sha256(input);
  return std::string(as_bytes(digest));
}

Digest request_row_key(Sha256& hash, std::string_view actor, std::string_view request) {
  hash.add(actor);
  hash.add(std::string_view("\0", 1));
  hash.add(request);
  return hash.finish();
}

Redaction redact_stream(const Reader& reader, rocksdb::WriteBatchBase& batch, std::uint64_t customer,
                        std::uint64_t purge_seq) {
  Database& database = reader.database();
  Redaction result;
  for (auto seq : stream_seqs(reader, customer)) {
    auto entry = read_entry(reader, seq);
    if (!entry) throw CorruptionError("stream " + std::to_string(customer) + " names missing entry " + std::to_string(seq));
    // A row naming another stream's entry, or a stub, would be counted as this stream's and
    // could hide a row that is missing: the caller compares the count with what it expects.
    if (entry->customer != customer || entry->redacted()) {
      throw CorruptionError("stream " + std::to_string(customer) + " names entry " + std::to_string(seq) +
                            (entry->redacted() ? ", which is already redacted" : ", which belongs to another stream"));
    }
    if (!entry->request.empty()) erase(database, batch, Family::kRequests, request_row_key(entry->actor, entry->request));
    result.digests.push_back(entry->digest);
    result.seqs.push_back(seq);
    ++result.entries;
    entry->payload.clear();
    entry->request.clear();
    entry->redacted_by = purge_seq;
    put(database, batch, Family::kLog, u64_key(seq), encode_envelope(*entry));
    erase(database, batch, Family::kStreams, u64_pair_key(customer, seq));
  }
  return result;
}

}  // namespace ledger::eventstore
