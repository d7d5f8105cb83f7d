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

void record_pending_erasure(Database& database, rocksdb::WriteBatchBase& batch, std::uint64_t purge_seq) {
  Database::check(batch.Put(database.family(Family::kMeta), row(purge_seq), rocksdb::Slice()), "adding to batch");
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
