// PrometheusText: writes metrics in the Prometheus text exposition format (version 0.0.4):
// a HELP and a TYPE line per family, then one line per sample. Small on purpose: the ledger
// exposes a few dozen samples, read from counters it keeps anyway.
//
// Not thread-safe: one writer per exposition.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ledger::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // Starts a family; each family once, before its samples.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, const MetricLabels& labels = {});
  // A whole histogram: cumulative counts for each upper bound in `bounds` (the +Inf bucket is
  // `count`), then _sum and _count. `cumulative` has one count per bound.
  void histogram(std::string_view name, std::span<const double> bounds, std::span<const std::uint64_t> cumulative,
                 std::uint64_t count, double sum, const MetricLabels& labels = {});

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace ledger::server
