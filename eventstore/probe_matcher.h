// ProbeMatcher: finds any of many byte strings (probes) inside larger byte strings in one pass,
// for the erasure pass's self-scan. Probes are personal data: a matcher lives in memory only
// and never writes, logs or reports a probe's bytes, only its index.
//
// Every probe is at least kMinProbeBytes (6) long, so every occurrence covers one of any three
// consecutive positions together with the 4 bytes from there, all inside the probe's first 6
// bytes. The scan therefore looks at every third position only: a table indexed by a hash of the
// 4 bytes there says at which of the offsets 0, 1, 2 some probe holds those bytes. Only for
// such a candidate start it looks up the probes sharing the 6 bytes from there (a contiguous
// range of the sorted probes) and narrows that range byte by byte, so a candidate costs at most
// the longest probe's length in binary-search steps, however many probes share a prefix.
// Linear in the bytes scanned. Immutable after construction: thread-safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ledger::eventstore {

// Shorter field values are too common to tell one customer from another.
constexpr std::size_t kMinProbeBytes = 6;

class ProbeMatcher {
 public:
  // Probes shorter than kMinProbeBytes are ignored; duplicates are kept once.
  explicit ProbeMatcher(std::vector<std::string> probes);

  std::size_t size() const { return probes_.size(); }
  const std::string& probe(std::size_t index) const { return probes_[index]; }
  // The longest probe's length (0 without probes).
  std::size_t longest() const { return longest_; }

  // Calls `hit(index, position)` for every occurrence of a probe in `haystack`, in position
  // order. Stops early when `hit` returns false.
  void scan(std::string_view haystack, const std::function<bool(std::size_t, std::size_t)>& hit) const;
  // True when any probe occurs in `haystack`.
  bool contains_any(std::string_view haystack) const;

 private:
  std::size_t gram_slot(const char* p) const;
  // Reports the probes that occur at `pos`; false when `hit` asked to stop.
  bool match_at(std::string_view haystack, std::size_t pos,
                const std::function<bool(std::size_t, std::size_t)>& hit) const;

  std::vector<std::string> probes_;
  std::size_t longest_ = 0;
  // Per hash of 4 bytes: bit j set when some probe holds 4 bytes with that hash at offset j.
  int gram_bits_ = 0;
  std::vector<std::uint8_t> grams_;
  // First kMinProbeBytes -> [begin, end) of the sorted probes that start with them.
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::uint32_t>> by_prefix_;
};

}  // namespace ledger::eventstore
