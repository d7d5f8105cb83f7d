#include "eventstore/shared_probes.h"

#include <algorithm>
#include <memory>
#include <string_view>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/probe_matcher.h"
#include "eventstore/reader.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

constexpr std::size_t kSliceEntries = 10'000;
constexpr std::size_t kReadahead = 2 << 20;

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

std::vector<std::string> drop_shared(Database& database, std::vector<std::string> probes,
                                     const std::vector<std::uint64_t>& purged, std::uint64_t& shared,
                                     std::vector<std::uint64_t>& unredacted, const std::atomic<bool>& abandon) {
  ProbeMatcher matcher(std::move(probes));
  std::vector<bool> in_use(matcher.size(), false);
  const auto mark = [&](std::string_view bytes) {
    matcher.scan(bytes, [&](std::size_t index, std::size_t) {
      in_use[index] = true;
      return true;
    });
  };
  auto read = iterate_options();
  read.fill_cache = false;  // a one-off scan of everything would evict what the writer reads
  read.readahead_size = kReadahead;
  EnvelopeDecoder decoder;
  for (auto family : {Family::kLog, Family::kCustomers}) {
    // Short-lived iterators, one per slice, so that no file stays pinned for long.
    std::string resume;
    bool first = true;
    for (bool more = true; more && !abandon;) {
      std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(read, database.family(family)));
      if (first) {
        it->SeekToFirst();
      } else {
        it->Seek(resume);
        if (it->Valid() && view(it->key()) == resume) it->Next();
      }
      first = false;
      std::size_t n = 0;
      for (; it->Valid() && n < kSliceEntries; it->Next(), ++n) {
        const auto value = view(it->value());
        if (family == Family::kLog && !purged.empty()) {
          if (it->key().size() != 8) throw CorruptionError("a log key is not 8 bytes");
          const auto& entry = decoder.decode(value, get_u64(view(it->key())));
          // Only what is stored as plaintext can share a probe: a sealed payload is ciphertext,
          // and the digest and chain are hashes.
          mark(entry.actor);
          mark(entry.request);
          if (!is_sealed(entry.payload)) mark(entry.payload);
          if (!entry.redacted() && std::binary_search(purged.begin(), purged.end(), entry.customer)) {
            unredacted.push_back(entry.seq);
          }
        } else if (!is_sealed(value)) {
          mark(value);
        }
        resume.assign(it->key().data(), it->key().size());
      }
      Database::check(it->status(), "reading surviving data");
      more = it->Valid();
    }
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < matcher.size(); ++i) {
    if (in_use[i]) ++shared;
    else kept.push_back(matcher.probe(i));
  }
  return kept;
}

}  // namespace ledger::eventstore
