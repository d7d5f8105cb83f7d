#include "server/api_metrics.h"

#include <capnp/schema.h>

namespace ledger::server {

void RequestMetrics::record(protocol::Request::Which kind, const protocol::ErrorCode* refusal,
                        std::chrono::nanoseconds took) {
  const auto k = static_cast<std::size_t>(kind);
  if (k < kKinds) requests_[k].fetch_add(1, std::memory_order_relaxed);
  if (refusal) {
    const auto c = static_cast<std::size_t>(*refusal);
    if (c < kCodes) refusals_[c].fetch_add(1, std::memory_order_relaxed);
  }
  const double seconds = std::chrono::duration<double>(took).count();
  for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
    if (seconds <= kLatencyBounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  sum_ns_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void RequestMetrics::write(PrometheusText& out) const {
  // The names are the schema's own, as the JSON API spells them.
  const auto kinds = capnp::Schema::from<protocol::Request>().getUnionFields();
  const auto requests = prefix_ + "_requests_total";
  const auto refusals = prefix_ + "_refusals_total";
  const auto duration = prefix_ + "_request_duration_seconds";
  out.family(requests, "counter", "requests " + subject_ + " answered, by kind");
  for (auto field : kinds) {
    const auto k = field.getProto().getDiscriminantValue();
    if (k >= kKinds) continue;
    out.sample(requests, static_cast<double>(requests_[k].load(std::memory_order_relaxed)),
               {{"kind", field.getProto().getName().cStr()}});
  }
  out.family(refusals, "counter", "requests " + subject_ + " answered with an error, by code");
  for (auto enumerant : capnp::Schema::from<protocol::ErrorCode>().getEnumerants()) {
    const auto c = enumerant.getOrdinal();
    if (c >= kCodes) continue;
    out.sample(refusals, static_cast<double>(refusals_[c].load(std::memory_order_relaxed)),
               {{"code", enumerant.getProto().getName().cStr()}});
  }
  out.family(duration, "histogram",
             "time from a decoded request to its answer, for " + subject_ + " (a command's includes its group commit)");
  std::array<std::uint64_t, kLatencyBounds.size()> cumulative{};
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  const auto count = std::max(running, count_.load(std::memory_order_relaxed));
  out.histogram(duration, kLatencyBounds, cumulative, count,
                static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
}

void ApiMetrics::write(PrometheusText& out) const {
  requests_.write(out);
  out.family("ledger_websocket_subscribers", "gauge", "open WebSocket feed sessions (GET /api/v1/feed)");
  out.sample("ledger_websocket_subscribers", static_cast<double>(feeds_.load(std::memory_order_relaxed)));
  out.family("ledger_websocket_cut_off_total", "counter", "WebSocket subscribers cut off with tooSlow");
  out.sample("ledger_websocket_cut_off_total", static_cast<double>(feeds_cut_off_.load(std::memory_order_relaxed)));
}

}  // namespace ledger::server
