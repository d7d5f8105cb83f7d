#include "eventstore/probe_matcher.h"

#include <algorithm>
#include <cstring>

namespace ledger::eventstore {
namespace {

// About 64 bits per probe keeps false positives near 1.5%; 4 KiB at least, 1 MiB at most.
constexpr int kMinFilterBits = 15;
constexpr int kMaxFilterBits = 23;

}  // namespace

std::uint64_t ProbeMatcher::window(const char* p) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, kMinProbeBytes);
  return w;
}

std::uint64_t ProbeMatcher::bit_of(std::uint64_t w) const { return (w * 0x9E3779B97F4A7C15ULL) >> (64 - filter_bits_); }

bool ProbeMatcher::maybe(std::uint64_t w) const {
  const auto bit = bit_of(w);
  return (filter_[bit >> 6] >> (bit & 63)) & 1;
}

ProbeMatcher::ProbeMatcher(std::vector<std::string> probes) {
  std::erase_if(probes, [](const std::string& p) { return p.size() < kMinProbeBytes; });
  std::sort(probes.begin(), probes.end());
  probes.erase(std::unique(probes.begin(), probes.end()), probes.end());
  probes_ = std::move(probes);
  filter_bits_ = kMinFilterBits;
  while (filter_bits_ < kMaxFilterBits && (std::size_t{1} << filter_bits_) < probes_.size() * 64) ++filter_bits_;
  filter_.assign((std::size_t{1} << filter_bits_) / 64, 0);
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    const auto w = window(probes_[i].data());
    const auto bit = bit_of(w);
    filter_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    by_prefix_[w].push_back(i);
  }
}

void ProbeMatcher::scan(std::string_view haystack, const std::function<bool(std::size_t, std::size_t)>& hit) const {
  if (probes_.empty() || haystack.size() < kMinProbeBytes) return;
  const char* data = haystack.data();
  const std::size_t last = haystack.size() - kMinProbeBytes;
  for (std::size_t pos = 0; pos <= last; ++pos) {
    const auto w = window(data + pos);
    if (!maybe(w)) continue;
    auto found = by_prefix_.find(w);
    if (found == by_prefix_.end()) continue;
    for (auto index : found->second) {
      const auto& p = probes_[index];
      if (p.size() <= haystack.size() - pos && std::memcmp(data + pos, p.data(), p.size()) == 0) {
        if (!hit(index, pos)) return;
      }
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
