#include "tools/bench/bench_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ledger::bench {
namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{:.4g}", value);
}

}  // namespace

void BenchReport::add(const std::string& name, double value) {
  for (auto& [n, v] : fields_) {
    if (n == name) {
      v = value;
      return;
    }
  }
  fields_.emplace_back(name, value);
}

void BenchReport::add(const std::string& name, std::string value) {
  for (auto& [n, v] : fields_) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  fields_.emplace_back(name, std::move(value));
}

const double* BenchReport::number(const std::string& name) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) return std::get_if<double>(&v);
  }
  return nullptr;
}

std::string BenchReport::json() const {
  std::string out = "{";
  for (const auto& [name, value] : fields_) {
    if (out.size() > 1) out += ", ";
    out += json_string(name) + ": ";
    if (const auto* d = std::get_if<double>(&value)) {
      out += json_number(*d);
    } else {
      out += json_string(std::get<std::string>(value));
    }
  }
  return out + "}";
}

std::string BenchReport::text() const {
  std::size_t width = 0;
  for (const auto& field : fields_) width = std::max(width, field.first.size());
  std::string out;
  for (const auto& [name, value] : fields_) {
    out += fmt::format("{:<{}}  ", name, width);
    if (const auto* d = std::get_if<double>(&value)) {
      out += *d == std::floor(*d) && std::fabs(*d) < 1e15 ? fmt::format("{:.0f}", *d) : fmt::format("{:.3f}", *d);
    } else {
      out += std::get<std::string>(value);
    }
    out += "\n";
  }
  return out;
}

double percentile(std::vector<std::uint32_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples.size())));
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace ledger::bench
