// ProbeMatcher: finds any of many byte strings (probes) inside larger byte strings in one pass,
// for the erasure pass's self-scan. Probes are personal data: a matcher lives in memory only
// and never writes, logs or reports a probe's bytes, only its index.
//
// Every probe is at least kMinProbeBytes long. The first kMinProbeBytes of each probe go into a
// bit filter and a hash map; scanning costs one filter test per byte, and a full comparison
// only where a probe's prefix is found. Immutable after construction: thread-safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
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

  // Calls `hit(index, position)` for every occurrence of a probe in `haystack`, in position
  // order. Stops early when `hit` returns false.
  void scan(std::string_view haystack, const std::function<bool(std::size_t, std::size_t)>& hit) const;
  // True when any probe occurs in `haystack`.
  bool contains_any(std::string_view haystack) const;

 private:
  static std::uint64_t window(const char* p);
  std::uint64_t bit_of(std::uint64_t w) const;
  bool maybe(std::uint64_t w) const;

  std::vector<std::string> probes_;
  // A bit per hash of a probe's first kMinProbeBytes, sized to the probes (small enough to stay
  // in the CPU's first-level cache for a few thousand probes, which the scan tests every byte).
  int filter_bits_ = 0;
  std::vector<std::uint64_t> filter_;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_prefix_;
};

}  // namespace ledger::eventstore
