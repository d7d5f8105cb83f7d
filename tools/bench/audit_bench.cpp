#include "tools/bench/audit_bench.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "eventstore/database.h"
#include "eventstore/log_scan.h"
#include "eventstore/reader.h"
#include "projections/verify.h"
#include "server/outcome.h"
#include "tools/audit/as_of.h"
#include "tools/bench/ledger_fill.h"
#include "tools/bench/process_cpu.h"
#include "tools/bench/process_memory.h"
#include "tools/bench/raw_store.h"
#include "tools/common/data_dir.h"

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }
double cpu_ms_since(double cpu_start) { return (process_cpu_seconds() - cpu_start) * 1000; }

}  // namespace

BenchReport run_audit_bench(const AuditBenchOptions& options) {
  BenchReport report("audit");
  const auto dir = options.work_dir / "audit";
  fs::remove_all(dir);
  // The replay benchmark's log: half creates, half edits.
  FillPlan plan;
  plan.customers = std::max<std::uint64_t>(options.events / 2, 1);
  plan.edits_per_customer = 1;
  const auto fill = fill_ledger(dir, plan);
  report.add("events", static_cast<double>(fill.events));
  report.add("fill_seconds", fill.seconds);
  {
    auto db = eventstore::Database::open(dir, {});
    wait_for_compactions(*db);
    db->close();
  }
  {
    tools::AuditView view(dir);
    eventstore::DatabaseReader reader(view.database());
    std::uint64_t bytes = 0;
    scan_log(view.database(), bytes);  // every timed pass starts with the log in the page cache
    reset_peak_rss();
    auto start = Clock::now();
    auto cpu_start = process_cpu_seconds();
    const auto rows = scan_log(view.database(), bytes);
    const double scan = ms_since(start);
    const double scan_cpu = cpu_ms_since(cpu_start);
    // The least any pass that reads the customers' data does: every entry decoded and its sealed
    // payload opened (a key lookup and AES-GCM), as the fold's LogScan does, and nothing else.
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    std::uint64_t opened_bytes = 0, opened_rows = 0;
    {
      eventstore::LogScan opened(reader, 1);
      while (const auto* e = opened.next()) {
        opened_bytes += e->payload.size();
        ++opened_rows;
      }
    }
    const double open_scan = ms_since(start);
    const double open_scan_cpu = cpu_ms_since(cpu_start);
    if (opened_rows != rows || opened_bytes == 0) throw std::runtime_error("the opening scan missed entries");
    // `ledger-audit replay --at` with the time of this run: the lists after every entry.
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    const auto as_of = tools::ledger_as_of_time(reader, now_us);
    const double fold = ms_since(start);
    const double fold_cpu = cpu_ms_since(cpu_start);
    if (as_of.seq != rows) throw std::runtime_error("the as-of fold stopped before the last entry");
    // As `ledger-audit verify --data` checks a data directory.
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    const auto verified =
        projections::verify_ledger(reader, {.digests = true, .read_remembered = server::remembered_write});
    const double verify = ms_since(start);
    const double verify_cpu = cpu_ms_since(cpu_start);
    if (!verified.ok) {
      throw std::runtime_error(fmt::format("verify failed at seq {}: {}", verified.first_bad_seq, verified.problem));
    }
    report.add("log_bytes", static_cast<double>(bytes));
    report.add("customers", static_cast<double>(as_of.active.size() + as_of.deleted.size()));
    report.add("scan_ms", scan);
    report.add("fold_ms", fold);
    report.add("verify_ms", verify);
    report.add("open_scan_ms", open_scan);
    report.add("fold_ratio", scan / fold);
    report.add("fold_open_ratio", open_scan / fold);
    report.add("verify_ratio", scan / verify);
    // CPU time of every thread: the passes use two, the scan one.
    report.add("scan_cpu_ms", scan_cpu);
    report.add("open_scan_cpu_ms", open_scan_cpu);
    report.add("fold_cpu_ms", fold_cpu);
    report.add("verify_cpu_ms", verify_cpu);
    report.add("rss_mb", peak_rss_mb(0));  // in this process, as in ledger-audit
  }
  fs::remove_all(dir);
  return report;
}

}  // namespace ledger::bench
