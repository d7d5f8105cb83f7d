#include "eventstore/probe_matcher.h"

#include <algorithm>
#include <cstring>

namespace ledger::eventstore {
namespace {

constexpr std::size_t kGramBytes = 4;
// Positions looked at: every kStep-th. Any kMinProbeBytes-byte window holds a gram starting at
// one of them, at offset 0 .. kStep - 1.
constexpr std::size_t kStep = kMinProbeBytes - kGramBytes + 1;
static_assert(kStep >= 1 && kStep <= 8, "one bit per offset in a byte");
// At least 16 slots per gram keeps false candidates near 6 %; 4 KiB at least, 1 MiB at most.
constexpr int kMinGramBits = 12;
constexpr int kMaxGramBits = 20;

std::uint64_t prefix_of(const char* p) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, kMinProbeBytes);
  return w;
}

}  // namespace

std::size_t ProbeMatcher::gram_slot(const char* p) const {
  std::uint32_t g = 0;
  std::memcpy(&g, p, kGramBytes);
  return (g * 0x9E3779B1u) >> (32 - gram_bits_);
}

ProbeMatcher::ProbeMatcher(std::vector<std::string> probes) {
  std::erase_if(probes, [](const std::string& p) { return p.size() < kMinProbeBytes; });
  std::sort(probes.begin(), probes.end());
  probes.erase(std::unique(probes.begin(), probes.end()), probes.end());
  probes_ = std::move(probes);
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    longest_ = std::max(longest_, probes_[i].size());
    // Sorted, so the probes sharing a prefix are contiguous.
    auto [slot, added] = by_prefix_.try_emplace(prefix_of(probes_[i].data()), static_cast<std::uint32_t>(i),
                                                static_cast<std::uint32_t>(i));
    slot->second.second = static_cast<std::uint32_t>(i + 1);
  }
  gram_bits_ = kMinGramBits;
  while (gram_bits_ < kMaxGramBits && (std::size_t{1} << gram_bits_) < by_prefix_.size() * kStep * 16) ++gram_bits_;
  grams_.assign(std::size_t{1} << gram_bits_, 0);
  for (const auto& [prefix, range] : by_prefix_) {
    const auto& p = probes_[range.first];
    for (std::size_t offset = 0; offset < kStep; ++offset) grams_[gram_slot(p.data() + offset)] |= 1u << offset;
  }
}

bool ProbeMatcher::match_at(std::string_view haystack, std::size_t pos,
                            const std::function<bool(std::size_t, std::size_t)>& hit) const {
  const char* data = haystack.data();
  const std::size_t rest = haystack.size() - pos;
  if (rest < kMinProbeBytes) return true;
  auto found = by_prefix_.find(prefix_of(data + pos));
  if (found == by_prefix_.end()) return true;
  // [lo, hi): the probes whose first `depth` bytes equal the haystack's at pos. In sorted order
  // a probe of exactly `depth` bytes comes first among them (there is at most one).
  std::size_t lo = found->second.first, hi = found->second.second;
  for (std::size_t depth = kMinProbeBytes;; ++depth) {
    if (probes_[lo].size() == depth) {
      if (!hit(lo, pos)) return false;
      if (++lo == hi) return true;
    }
    if (depth == rest) return true;
    const auto c = static_cast<unsigned char>(data[pos + depth]);
    const auto byte_at = [depth](const std::string& p) { return static_cast<unsigned char>(p[depth]); };
    const auto first = probes_.begin() + static_cast<std::ptrdiff_t>(lo);
    const auto last = probes_.begin() + static_cast<std::ptrdiff_t>(hi);
    const auto from = std::partition_point(first, last, [&](const std::string& p) { return byte_at(p) < c; });
    const auto to = std::partition_point(from, last, [&](const std::string& p) { return byte_at(p) == c; });
    if (from == to) return true;
    lo = static_cast<std::size_t>(from - probes_.begin());
    hi = static_cast<std::size_t>(to - probes_.begin());
  }
}

void ProbeMatcher::scan(std::string_view haystack, const std::function<bool(std::size_t, std::size_t)>& hit) const {
  if (probes_.empty() || haystack.size() < kMinProbeBytes) return;
  const char* data = haystack.data();
  const std::size_t n = haystack.size();
  // A probe starting at s is seen from the one position p = s + offset (offset < kStep) that is
  // a multiple of kStep; candidates from p lie in [p - kStep + 1, p], so they come in order.
  for (std::size_t p = 0; p + kGramBytes <= n; p += kStep) {
    const unsigned offsets = grams_[gram_slot(data + p)];
    if (offsets == 0) continue;
    for (std::size_t offset = kStep; offset-- > 0;) {
      if (!((offsets >> offset) & 1u) || p < offset) continue;
      if (!match_at(haystack, p - offset, hit)) return;
    }
  }
}

bool ProbeMatcher::contains_any(std::string_view haystack) const {
  bool any = false;
  scan(haystack, [&](std::size_t, std::size_t) {
    any = true;
    return false;
  });
  return any;
}

}  // namespace ledger::eventstore
