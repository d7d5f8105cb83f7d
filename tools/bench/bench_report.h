// BenchReport: one benchmark run's figures, printed as aligned text or as one JSON object;
// and latency percentiles. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ledger::bench {

class BenchReport {
 public:
  explicit BenchReport(std::string mode) { add("mode", std::move(mode)); }
  // Figures keep the order they were added in; a name added twice keeps the last value.
  void add(const std::string& name, double value);
  void add(const std::string& name, std::string value);
  // nullptr when `name` was not added or is text.
  const double* number(const std::string& name) const;
  std::string json() const;
  std::string text() const;

 private:
  std::vector<std::pair<std::string, std::variant<double, std::string>>> fields_;
};

// Latencies in microseconds. Sorts `samples`; returns 0 for an empty set.
double percentile(std::vector<std::uint32_t>& samples, double fraction);

}  // namespace ledger::bench
