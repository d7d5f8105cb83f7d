// ledger-bench: measures the ledger against raw RocksDB doing the same work, side by side in
// one run (docs/performance.md). Modes: write, replay, purge, open, search, audit, import. Prints
// aligned text, or with --json one JSON object per run; `table` turns such objects into the
// Markdown table of docs/performance.md. Exit codes: 0 done; 1 the run failed; 2 usage.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <fstream>

#include "tools/bench/audit_bench.h"
#include "tools/bench/bench_table.h"
#include "tools/bench/import_bench.h"
#include "tools/bench/search_bench.h"
#include "tools/bench/store_benches.h"
#include "tools/bench/write_bench.h"
#include "tools/bench/bench_ledgerd.h"
#include "tools/common/stderr_log.h"

using namespace ledger;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"ledger-bench: the ledger against raw RocksDB, side by side"};
  app.require_subcommand(1);
  bool json = false;
  std::string work = (fs::temp_directory_path() / ("ledger-bench-" + std::to_string(getpid()))).string();
  std::string ledgerd = bench::default_ledgerd_path().string();
  app.add_flag("--json", json, "print one JSON object");
  app.add_option("--work-dir", work, "temporary data directories go here (removed afterwards)");
  app.add_option("--ledgerd", ledgerd, "the ledgerd executable to start")->capture_default_str();

  bench::WriteBenchOptions write;
  std::string mix = "create=100";
  auto* write_cmd = app.add_subcommand("write", "durable commands per second over TCP, and raw RocksDB");
  write_cmd->add_option("--server", write.server, "HOST:PORT of a running ledgerd; default: start one");
  write_cmd->add_option("--connections", write.connections, "client connections")
      ->check(CLI::Range(1u, 4096u))->capture_default_str();
  write_cmd->add_option("--pipeline", write.pipeline, "commands in flight per connection")
      ->check(CLI::Range(1u, 128u))->capture_default_str();
  write_cmd->add_option("--seconds", write.seconds, "how long each measurement runs")
      ->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  write_cmd->add_option("--mix", mix, "command shares, e.g. create=70,edit=20,delete=5,undelete=5")
      ->capture_default_str();
  write_cmd->add_flag("--raw", write.raw, "also run the networked minimal log and the protocol path alone (reads), and write the same bytes straight to RocksDB, the event-log limit and the ceiling");
  write_cmd->add_option("--raw-pool", write.raw_pool, "distinct command batches the raw baseline cycles through")
      ->check(CLI::Range(std::size_t{1000}, std::size_t{10'000'000}))->capture_default_str();

  bench::StoreBenchOptions store;
  store.events = 100'000;
  store.customers = 100'000;
  auto* replay_cmd = app.add_subcommand("replay", "projection rebuild against a raw scan of the log");
  replay_cmd->add_option("--events", store.events, "log entries")->check(CLI::Range(1ull, 1'000'000'000ull))
      ->capture_default_str();
  auto* purge_cmd = app.add_subcommand("purge", "the erasure pass against a bare full compaction");
  purge_cmd->add_option("--customers", store.customers, "customers")->check(CLI::Range(100ull, 1'000'000'000ull))
      ->capture_default_str();
  purge_cmd->add_option("--percent", store.percent, "share of customers deleted, then purged")
      ->check(CLI::Range(0.01, 100.0))->capture_default_str();
  purge_cmd->add_option("--edits", store.edits, "edits per customer before the deletes (each changes two fields)")
      ->check(CLI::Range(0u, 100u))->capture_default_str();
  auto* open_cmd = app.add_subcommand("open", "ledgerd start-up against a bare RocksDB open");
  open_cmd->add_option("--customers", store.customers, "customers")->check(CLI::Range(1ull, 1'000'000'000ull))
      ->capture_default_str();

  bench::SearchBenchOptions search;
  auto* search_cmd = app.add_subcommand("search", "latency of searches by 3-letter fragments over TCP, and ledgerd's memory");
  search_cmd->add_option("--customers", search.customers, "customers")->check(CLI::Range(100ull, 1'000'000'000ull))
      ->capture_default_str();
  search_cmd->add_option("--searches", search.searches, "different fragments searched for, one at a time")
      ->check(CLI::Range(1u, 1'000'000u))->capture_default_str();

  bench::AuditBenchOptions audit;
  auto* audit_cmd = app.add_subcommand("audit", "the auditor's as-of fold and verify against a raw scan of the log");
  audit_cmd->add_option("--events", audit.events, "log entries")->check(CLI::Range(2ull, 1'000'000'000ull))
      ->capture_default_str();

  bench::ImportBenchOptions import;
  std::string admin = bench::default_admin_path().string();
  auto* import_cmd = app.add_subcommand("import", "ledger-admin import of a generated file against a bulk event-log append");
  import_cmd->add_option("--customers", import.customers, "rows in the file")->check(CLI::Range(1ull, 100'000'000ull))
      ->capture_default_str();
  import_cmd->add_option("--admin", admin, "the ledger-admin executable to run")->capture_default_str();

  std::vector<std::string> table_files;
  auto* table_cmd = app.add_subcommand("table", "a Markdown table from --json results (one object per line)");
  table_cmd->add_option("files", table_files, "files of --json results")->required()->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);
  tools::log_to_stderr("ledger-bench");

  if (*table_cmd) {
    std::vector<std::string> lines;
    for (const auto& file : table_files) {
      std::ifstream in(file);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) lines.push_back(line);
      }
    }
    std::cout << bench::markdown_table(lines);
    return 0;
  }

  const bool made_work_dir = !fs::exists(work);
  try {
    fs::create_directories(work);
    std::optional<bench::BenchReport> report;
    if (*write_cmd) {
      auto parsed = bench::parse_mix(mix);
      if (!parsed) {
        std::cerr << "ledger-bench: --mix must look like create=70,edit=20,delete=5,undelete=5\n";
        return 2;
      }
      write.mix = *parsed;
      write.ledgerd = ledgerd;
      write.work_dir = fs::path(work) / "write";
      report = bench::run_write_bench(write);
    } else if (*search_cmd) {
      search.work_dir = work;
      search.ledgerd = ledgerd;
      report = bench::run_search_bench(search);
    } else if (*import_cmd) {
      import.work_dir = work;
      import.admin = admin;
      report = bench::run_import_bench(import);
    } else if (*audit_cmd) {
      audit.work_dir = work;
      report = bench::run_audit_bench(audit);
    } else {
      store.work_dir = work;
      store.ledgerd = ledgerd;
      if (*replay_cmd) report = bench::run_replay_bench(store);
      if (*purge_cmd) report = bench::run_purge_bench(store);
      if (*open_cmd) report = bench::run_open_bench(store);
    }
    if (made_work_dir) fs::remove_all(work);
    std::cout << (json ? report->json() + "\n" : report->text()) << std::flush;
  } catch (const std::exception& e) {
    if (made_work_dir) fs::remove_all(work);
    std::cerr << "ledger-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
