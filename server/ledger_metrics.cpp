#include "server/ledger_metrics.h"

#include <rocksdb/db.h>

namespace ledger::server {

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
