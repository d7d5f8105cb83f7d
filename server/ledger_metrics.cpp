#include "server/ledger_metrics.h"

#include <rocksdb/db.h>

namespace ledger::server {

void WriterMetrics::erasure_pass(const eventstore::ErasureReport& report) {
  switch (report.state) {
    case eventstore::ErasureState::kVerified: passes_verified_.fetch_add(1, std::memory_order_relaxed); break;
    case eventstore::ErasureState::kStopped: passes_stopped_.fetch_add(1, std::memory_order_relaxed); break;
    default: passes_not_verified_.fetch_add(1, std::memory_order_relaxed); break;
  }
  erasure_seconds_.observe(static_cast<double>(report.duration_ms) / 1e3);
  residue_total_.fetch_add(report.residue, std::memory_order_relaxed);
  last_residue_.store(report.residue, std::memory_order_relaxed);
}

void WriterMetrics::write(PrometheusText& out) const {
  out.family("ledger_group_size", "histogram", "commands per durable group commit (one Write, one fsync)");
  group_sizes_.write(out, "ledger_group_size");
  out.family("ledger_group_write_seconds", "histogram", "time of each group commit's Write, its fsync included");
  write_seconds_.write(out, "ledger_group_write_seconds");
  out.family("ledger_erasure_passes_total", "counter", "erasure passes that ran, by the state of their report");
  out.sample("ledger_erasure_passes_total", static_cast<double>(passes_verified_.load(std::memory_order_relaxed)),
             {{"state", "verified"}});
  out.sample("ledger_erasure_passes_total", static_cast<double>(passes_not_verified_.load(std::memory_order_relaxed)),
             {{"state", "notVerified"}});
  out.sample("ledger_erasure_passes_total", static_cast<double>(passes_stopped_.load(std::memory_order_relaxed)),
             {{"state", "stopped"}});
  out.family("ledger_erasure_pass_duration_seconds", "histogram", "duration of each erasure pass");
  erasure_seconds_.write(out, "ledger_erasure_pass_duration_seconds");
  out.family("ledger_erasure_residue_total", "counter", "probe hits found by erasure passes (residue), summed");
  out.sample("ledger_erasure_residue_total", static_cast<double>(residue_total_.load(std::memory_order_relaxed)));
  out.family("ledger_erasure_last_residue", "gauge", "probe hits found by the last erasure pass (0: none left)");
  out.sample("ledger_erasure_last_residue", static_cast<double>(last_residue_.load(std::memory_order_relaxed)));
}

void write_ledger_metrics(const LedgerMetricsSources& sources, PrometheusText& out) {
  if (sources.service) {
    const auto stats = sources.service->stats();
    out.family("ledger_commands_total", "counter", "commands answered by the writer since the start (TCP and HTTP)");
    out.sample("ledger_commands_total", static_cast<double>(stats.commands));
    out.family("ledger_group_commits_total", "counter", "group commits (fsyncs) written since the start");
    out.sample("ledger_group_commits_total", static_cast<double>(stats.batches));
    out.family("ledger_commands_per_group", "gauge", "mean commands per group commit since the start");
    out.sample("ledger_commands_per_group",
               stats.batches == 0 ? 0.0 : static_cast<double>(stats.commands) / static_cast<double>(stats.batches));
    out.family("ledger_writer_cpu_seconds_total", "counter", "writer CPU time, by phase (the fsync wait not counted)");
    out.sample("ledger_writer_cpu_seconds_total", static_cast<double>(stats.decide_cpu_ns) / 1e9, {{"phase", "decide"}});
    out.sample("ledger_writer_cpu_seconds_total", static_cast<double>(stats.write_cpu_ns) / 1e9, {{"phase", "write"}});
  }
  if (sources.writer) sources.writer->write(out);
  out.family("ledger_connections", "gauge", "open connections, by transport");
  if (sources.tcp_connections) {
    out.sample("ledger_connections", static_cast<double>(sources.tcp_connections()), {{"transport", "tcp"}});
  }
  if (sources.http_connections) {
    out.sample("ledger_connections", static_cast<double>(sources.http_connections()), {{"transport", "http"}});
  }
  if (sources.feed) {
    out.family("ledger_subscribers", "gauge", "live subscriptions");
    out.sample("ledger_subscribers", static_cast<double>(sources.feed->size()));
  }
  if (sources.database) {
    auto& db = sources.database->db();
    const std::pair<const char*, const char*> properties[] = {
        {"rocksdb.estimate-live-data-size", "ledger_rocksdb_live_data_bytes"},
        {"rocksdb.total-sst-files-size", "ledger_rocksdb_sst_files_bytes"},
        {"rocksdb.cur-size-all-mem-tables", "ledger_rocksdb_memtable_bytes"},
        {"rocksdb.num-running-compactions", "ledger_rocksdb_running_compactions"},
        {"rocksdb.estimate-pending-compaction-bytes", "ledger_rocksdb_pending_compaction_bytes"},
    };
    for (const auto& [property, name] : properties) {
      std::uint64_t total = 0;
      // Summed over the column families; a property a family cannot give counts as 0.
      for (auto* family : sources.database->all_families()) {
        std::uint64_t value = 0;
        if (db.GetIntProperty(family, property, &value)) total += value;
      }
      out.family(name, "gauge", std::string("RocksDB ") + property + ", summed over the column families");
      out.sample(name, static_cast<double>(total));
    }
  }
}

}  // namespace ledger::server
