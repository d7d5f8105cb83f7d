#include "eventstore/erasure_compaction.h"

#include <algorithm>

#include <rocksdb/metadata.h>

#include "eventstore/encoding.h"

namespace ledger::eventstore {
namespace {

// More ranges than this in one family are compacted as one range from the first to the last:
// each CompactRange has a fixed cost, and so many files holding purged keys are most of the family.
constexpr std::size_t kMaxRanges = 64;

// The targeted keys of `family`, sorted, as inclusive ranges; nullopt: the whole family.
std::optional<std::vector<KeyRange>> targeted_keys(Family family, const ErasureTargets& targets) {
  const auto points = [](const std::vector<std::uint64_t>& values) {
    std::vector<KeyRange> keys;
    keys.reserve(values.size());
    for (auto v : values) keys.push_back({u64_key(v), u64_key(v)});
    return keys;
  };
  switch (family) {
    case Family::kLog:
      if (!targets.log_seqs) return std::nullopt;
      return points(*targets.log_seqs);
    case Family::kCustomers:
      return points(targets.customers);
    case Family::kStreams: {
      std::vector<KeyRange> keys;
      for (auto id : targets.customers) keys.push_back({u64_pair_key(id, 0), u64_pair_key(id, UINT64_MAX)});
      return keys;
    }
    case Family::kActive:
    case Family::kDeleted:
      return points(targets.numbers);
    case Family::kNumbersFree:  // small; keyed by interval ends that the purge merged
    case Family::kRequests:     // keyed by hashes of request keys, which the targets do not name
    case Family::kMeta:
      return std::nullopt;
  }
  return std::nullopt;
}

bool holds_any(const std::vector<KeyRange>& keys, std::string_view smallest, std::string_view largest) {
  // The first targeted range that does not end before the file starts.
  auto it = std::lower_bound(keys.begin(), keys.end(), smallest,
                             [](const KeyRange& r, std::string_view key) { return std::string_view(r.last) < key; });
  return it != keys.end() && std::string_view(it->first) <= largest;
}

}  // namespace

std::vector<std::optional<std::vector<KeyRange>>> plan_erasure_compaction(Database& database,
                                                                          const ErasureTargets& targets,
                                                                          CompactionSummary& summary) {
  std::vector<std::optional<std::vector<KeyRange>>> plan(kFamilyCount);
  for (std::size_t f = 0; f < kFamilyCount; ++f) {
    const auto family = static_cast<Family>(f);
    rocksdb::ColumnFamilyMetaData meta;
    database.db().GetColumnFamilyMetaData(database.family(family), &meta);
    std::vector<KeyRange> files;
    std::optional<std::vector<KeyRange>> keys;
    if (!targets.customers.empty()) {
      keys = targeted_keys(family, targets);
      if (keys) {
        std::sort(keys->begin(), keys->end(), [](const KeyRange& a, const KeyRange& b) { return a.first < b.first; });
      }
    }
    for (const auto& level : meta.levels) {
      for (const auto& file : level.files) {
        ++summary.sst_files;
        summary.sst_bytes += file.size;
        if (!keys || holds_any(*keys, file.smallestkey, file.largestkey)) {
          ++summary.files;
          summary.bytes += file.size;
          files.push_back({file.smallestkey, file.largestkey});
        }
      }
    }
    if (!keys) {
      if (meta.file_count > 0) ++summary.whole_families;
      continue;  // plan[f] stays nullopt: the whole family
    }
    std::sort(files.begin(), files.end(), [](const KeyRange& a, const KeyRange& b) { return a.first < b.first; });
    std::vector<KeyRange> ranges;
    for (auto& file : files) {
      if (!ranges.empty() && file.first <= ranges.back().last) {
        if (file.last > ranges.back().last) ranges.back().last = std::move(file.last);
      } else {
        ranges.push_back(std::move(file));
      }
    }
    if (ranges.size() > kMaxRanges) {
      ranges.front().last = ranges.back().last;
      ranges.resize(1);
    }
    plan[f] = std::move(ranges);
  }
  return plan;
}

CompactionSummary compact_for_erasure(Database& database, const ErasureTargets& targets,
                                      const rocksdb::CompactRangeOptions& options,
                                      const std::function<bool()>& stopping,
                                      const std::function<void()>& after_family) {
  CompactionSummary summary;
  const auto plan = plan_erasure_compaction(database, targets, summary);
  for (std::size_t f = 0; f < kFamilyCount && !stopping(); ++f) {
    auto* handle = database.family(static_cast<Family>(f));
    const auto compact = [&](const rocksdb::Slice* begin, const rocksdb::Slice* end) {
      ++summary.ranges;
      auto status = database.db().CompactRange(options, handle, begin, end);
      if (!stopping()) Database::check(status, std::string("compacting ") + handle->GetName());
    };
    if (!plan[f]) {
      compact(nullptr, nullptr);
    } else {
      if (plan[f]->empty()) continue;
      for (const auto& range : *plan[f]) {
        if (stopping()) break;
        const rocksdb::Slice begin(range.first), end(range.last);
        compact(&begin, &end);
      }
    }
    if (!stopping()) after_family();
  }
  return summary;
}

}  // namespace ledger::eventstore
