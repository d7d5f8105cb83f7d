#include "eventstore/sorted_batch.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "eventstore/database.h"

namespace ledger::eventstore {
namespace {

struct Write {
  std::uint32_t family;
  std::string_view key;
  std::string_view value;
  bool put;
};

// Views into the original batch's bytes, which outlive the sort.
class Collector : public rocksdb::WriteBatch::Handler {
 public:
  std::vector<Write> writes;

  rocksdb::Status PutCF(std::uint32_t family, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    writes.push_back({family, view(key), view(value), true});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(std::uint32_t family, const rocksdb::Slice& key) override {
    writes.push_back({family, view(key), {}, false});
    return rocksdb::Status::OK();
  }
  // Every other kind of write (merge, single delete, range delete, blob index, log data) is
  // refused by the Handler's defaults, which return a non-OK status.

 private:
  static std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
};

}  // namespace

std::optional<rocksdb::WriteBatch> sorted_batch(Database& database, const rocksdb::WriteBatch& batch) {
  Collector collector;
  if (!batch.Iterate(&collector).ok()) return std::nullopt;
  auto& writes = collector.writes;
  // Stable: of several writes to one key, the last in batch order stays last.
  std::stable_sort(writes.begin(), writes.end(), [](const Write& a, const Write& b) {
    return std::tie(a.family, a.key) < std::tie(b.family, b.key);
  });
  std::map<std::uint32_t, rocksdb::ColumnFamilyHandle*> handles;
  for (auto* handle : database.all_families()) handles[handle->GetID()] = handle;
  rocksdb::WriteBatch sorted(batch.GetDataSize());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const auto& w = writes[i];
    const bool overwritten = i + 1 < writes.size() && writes[i + 1].family == w.family && writes[i + 1].key == w.key;
    if (overwritten) continue;
    const rocksdb::Slice key(w.key.data(), w.key.size());
    auto* family = handles.at(w.family);
    auto status = w.put ? sorted.Put(family, key, rocksdb::Slice(w.value.data(), w.value.size()))
                        : sorted.Delete(family, key);
    Database::check(status, "reordering a batch");
  }
  return sorted;
}

}  // namespace ledger::eventstore
