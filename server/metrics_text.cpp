#include "server/metrics_text.h"

#include <cmath>

#include <fmt/format.h>

namespace ledger::server {
namespace {

std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

std::string label_text(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += labels[i].first + "=\"" + escaped(labels[i].second) + "\"";
  }
  return out + "}";
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PrometheusText::sample(std::string_view name, double value, const MetricLabels& labels) {
  text_ += fmt::format("{}{} {}\n", name, label_text(labels), number(value));
}

void PrometheusText::histogram(std::string_view name, std::span<const double> bounds,
                               std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                               const MetricLabels& labels) {
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    auto with_le = labels;
    with_le.emplace_back("le", number(bounds[i]));
    sample(bucket, static_cast<double>(cumulative[i]), with_le);
  }
  auto infinite = labels;
  infinite.emplace_back("le", "+Inf");
  sample(bucket, static_cast<double>(count), infinite);
  sample(std::string(name) + "_sum", sum, labels);
  sample(std::string(name) + "_count", static_cast<double>(count), labels);
}

}  // namespace ledger::server
