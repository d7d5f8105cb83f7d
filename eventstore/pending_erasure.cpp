#include "eventstore/pending_erasure.h"

#include <string>

#include "eventstore/encoding.h"

namespace ledger::eventstore {
namespace {

constexpr std::string_view kPrefix = "erasure.pending.";

std::string row(std::uint64_t purge_seq) {
  std::string key(kPrefix);
  put_u64(key, purge_seq);
  return key;
}

}  // namespace

void record_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq,
                            const std::vector<std::uint64_t>& redacted) {
  std::string value;
  value.reserve(8 * redacted.size());
  for (auto seq : redacted) put_u64(value, seq);
  Database::check(batch.Put(database.family(Family::kMeta), row(purge_seq), value), "adding to batch");
}

std::optional<std::vector<std::uint64_t>> pending_erasure_entries(const Reader& reader, std::uint64_t purge_seq) {
  const auto value = reader.get(Family::kMeta, row(purge_seq));
  if (!value || value->empty()) return std::nullopt;
  if (value->size() % 8 != 0) throw StorageError("the pending-erasure record of purge " + std::to_string(purge_seq) + " is corrupt");
  std::vector<std::uint64_t> seqs;
  seqs.reserve(value->size() / 8);
  for (std::size_t at = 0; at < value->size(); at += 8) seqs.push_back(get_u64(*value, at));
  return seqs;
}

void clear_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq) {
  Database::check(batch.Delete(database.family(Family::kMeta), row(purge_seq)), "adding to batch");
}

std::vector<std::uint64_t> pending_erasures(const Reader& reader) {
  std::vector<std::uint64_t> seqs;
  auto it = reader.iterate(Family::kMeta);
  for (it->Seek(rocksdb::Slice(kPrefix.data(), kPrefix.size())); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(kPrefix)) break;
    if (key.size() != kPrefix.size() + 8) throw StorageError("a pending-erasure record is corrupt");
    seqs.push_back(get_u64(key, kPrefix.size()));
  }
  Database::check(it->status(), "reading pending erasures");
  return seqs;
}

}  // namespace ledger::eventstore
