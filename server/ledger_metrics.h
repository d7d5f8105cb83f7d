// The ledger's own metrics for GET /metrics: the writer's counters (CommandService::stats), the
// open TCP and HTTP connections, the live subscribers and a few RocksDB properties. Reads what
// the parts keep anyway; nothing here counts on its own.
#pragma once

#include <cstddef>
#include <functional>

#include "eventstore/database.h"
#include "server/command_service.h"
#include "server/commit_feed.h"
#include "server/metrics_text.h"

namespace ledger::server {

struct LedgerMetricsSources {
  CommandService* service = nullptr;
  eventstore::Database* database = nullptr;
  CommitFeed* feed = nullptr;
  std::function<std::size_t()> tcp_connections;
  std::function<std::size_t()> http_connections;
};

// Writes the families ledger_commands_total, ledger_group_commits_total,
// ledger_commands_per_group, ledger_writer_cpu_seconds_total, ledger_connections,
// ledger_subscribers and ledger_rocksdb_* (docs/http.md lists them).
void write_ledger_metrics(const LedgerMetricsSources& sources, PrometheusText& out);

}  // namespace ledger::server
