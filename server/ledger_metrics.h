// The ledger's own metrics for GET /metrics: the writer's counters (CommandService::stats), the
// open TCP and HTTP connections, the live subscribers and a few RocksDB properties, read from
// what the parts keep anyway; and WriterMetrics, which the writer's and the erasure worker's
// hooks (CommandServiceOptions) feed: group sizes, write latency, erasure passes.
//
// Thread-safe: WriterMetrics is lock-free (relaxed atomics), for the writer's hot path.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <span>

#include "eventstore/database.h"
#include "eventstore/erasure_report.h"
#include "server/command_service.h"
#include "server/commit_feed.h"
#include "server/metrics_text.h"

namespace ledger::server {

// A Prometheus histogram of fixed buckets, counted with relaxed atomics. Thread-safe.
template <std::size_t N>
class AtomicHistogram {
 public:
  explicit constexpr AtomicHistogram(const std::array<double, N>& bounds) : bounds_(bounds) {}
  void observe(double value) {
    for (std::size_t i = 0; i < N; ++i) {
      if (value <= bounds_[i]) {
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        break;
      }
    }
    // A double's sum without a lock: in millionths, which the values here need no finer than.
    sum_micros_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  void write(PrometheusText& out, std::string_view name) const {
    std::array<std::uint64_t, N> cumulative{};
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < N; ++i) cumulative[i] = running += buckets_[i].load(std::memory_order_relaxed);
    const auto count = std::max(running, count_.load(std::memory_order_relaxed));
    out.histogram(name, bounds_, cumulative, count,
                  static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6);
  }

 private:
  const std::array<double, N> bounds_;
  std::array<std::atomic<std::uint64_t>, N> buckets_{};  // not cumulative
  std::atomic<std::uint64_t> sum_micros_{0};
  std::atomic<std::uint64_t> count_{0};
};

class WriterMetrics {
 public:
  // CommandServiceOptions::group_written_hook: one durable group of `commands`, its Write's time.
  void group_written(std::size_t commands, std::chrono::nanoseconds write) {
    group_sizes_.observe(static_cast<double>(commands));
    write_seconds_.observe(std::chrono::duration<double>(write).count());
  }
  // CommandServiceOptions::erasure_report_hook: a pass ended.
  void erasure_pass(const eventstore::ErasureReport& report);
  // ledger_group_size, ledger_group_write_seconds, ledger_erasure_passes_total{state},
  // ledger_erasure_pass_duration_seconds, ledger_erasure_residue_total, ledger_erasure_last_residue.
  void write(PrometheusText& out) const;

 private:
  AtomicHistogram<11> group_sizes_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  AtomicHistogram<12> write_seconds_{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
  AtomicHistogram<10> erasure_seconds_{{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}};
  std::atomic<std::uint64_t> passes_verified_{0};
  std::atomic<std::uint64_t> passes_not_verified_{0};
  std::atomic<std::uint64_t> passes_stopped_{0};
  std::atomic<std::uint64_t> residue_total_{0};
  std::atomic<std::uint64_t> last_residue_{0};
};

struct LedgerMetricsSources {
  CommandService* service = nullptr;
  eventstore::Database* database = nullptr;
  CommitFeed* feed = nullptr;
  std::function<std::size_t()> tcp_connections;
  std::function<std::size_t()> http_connections;
  const WriterMetrics* writer = nullptr;
};

// Writes the families ledger_commands_total, ledger_group_commits_total,
// ledger_commands_per_group, ledger_writer_cpu_seconds_total, ledger_connections,
// ledger_subscribers and ledger_rocksdb_*, and the writer's (docs/http.md lists them).
void write_ledger_metrics(const LedgerMetricsSources& sources, PrometheusText& out);

}  // namespace ledger::server
