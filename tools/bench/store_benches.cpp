#include "tools/bench/store_benches.h"

#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>

#include <rocksdb/db.h>

#include "eventstore/database.h"
#include "eventstore/log_scan.h"
#include "eventstore/reader.h"
#include "projections/rebuild.h"
#include "projections/replay.h"
#include "tools/bench/ledger_fill.h"
#include "tools/bench/bench_ledgerd.h"
#include "tools/bench/process_cpu.h"
#include "tools/bench/process_memory.h"
#include "tools/bench/raw_store.h"
#include "ledger/client/client.h"

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

BenchReport run_replay_bench(const StoreBenchOptions& options) {
  BenchReport report("replay");
  const auto dir = options.work_dir / "replay";
  fs::remove_all(dir);
  FillPlan plan;
  plan.customers = std::max<std::uint64_t>(options.events / 2, 1);
  plan.edits_per_customer = 1;
  const auto fill = fill_ledger(dir, plan);
  report.add("events", static_cast<double>(fill.events));
  report.add("fill_seconds", fill.seconds);
  {
    auto db = eventstore::Database::open(dir, {});
    wait_for_compactions(*db);
    std::uint64_t bytes = 0;
    scan_log(*db, bytes);  // both timed runs start with the log in the page cache
    reset_peak_rss();
    auto start = Clock::now();
    auto cpu_start = process_cpu_seconds();
    const auto rows = scan_log(*db, bytes);
    const double raw = seconds_since(start);
    const double raw_cpu = process_cpu_seconds() - cpu_start;
    // The least a pass that reads the customers' data does (audit's opening scan): every entry
    // decoded and its sealed payload opened, as the fold's LogScan does, and nothing else.
    start = Clock::now();
    std::uint64_t opened_rows = 0;
    {
      eventstore::LogScan opened(eventstore::DatabaseReader(*db), 1);
      while (opened.next()) ++opened_rows;
    }
    const double open_scan = seconds_since(start);
    if (opened_rows != rows) throw std::runtime_error("the opening scan missed entries");
    // The fold alone (decode every entry, apply it to the customers in memory), which the
    // rebuild does before it writes every projection row again.
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    const auto folded = projections::replay_log(eventstore::DatabaseReader(*db));
    const double fold = seconds_since(start);
    const double fold_cpu = process_cpu_seconds() - cpu_start;
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    const auto replayed = projections::rebuild_projections(*db);
    const double ours = seconds_since(start);
    const double ours_cpu = process_cpu_seconds() - cpu_start;
    if (replayed != rows) throw std::runtime_error("the rebuild replayed a different number of entries than the scan");
    report.add("log_bytes", static_cast<double>(bytes));
    report.add("rebuild_seconds", ours);
    report.add("events_per_s", static_cast<double>(replayed) / ours);
    report.add("raw_seconds", raw);
    report.add("raw_per_s", static_cast<double>(rows) / raw);
    report.add("ratio", raw / ours);
    report.add("fold_events_per_s", static_cast<double>(folded.entries) / fold);
    report.add("fold_ratio", raw / fold);
    report.add("open_scan_seconds", open_scan);
    report.add("rebuild_open_ratio", open_scan / ours);
    // CPU time of every thread of this process (RocksDB's background work included): the
    // fold and the rebuild use two threads, the scan one.
    report.add("raw_cpu_seconds", raw_cpu);
    report.add("fold_cpu_seconds", fold_cpu);
    report.add("rebuild_cpu_seconds", ours_cpu);
    report.add("rss_mb", peak_rss_mb(0));  // in this process: the rebuild runs here, not in ledgerd
  }
  fs::remove_all(dir);
  return report;
}

BenchReport run_purge_bench(const StoreBenchOptions& options) {
  BenchReport report("purge");
  const auto dir = options.work_dir / "purge";
  const auto bare_dir = options.work_dir / "purge-bare";
  fs::remove_all(dir);
  fs::remove_all(bare_dir);
  FillPlan plan;
  plan.customers = options.customers;
  plan.edits_per_customer = options.edits;
  plan.delete_percent = options.percent;
  const auto fill = fill_ledger(dir, plan);
  report.add("customers", static_cast<double>(options.customers));
  report.add("edits", static_cast<double>(options.edits));
  report.add("events", static_cast<double>(fill.events));
  report.add("fill_seconds", fill.seconds);
  fs::copy(dir, bare_dir, fs::copy_options::recursive);

  {
    LedgerdProcess ledgerd(bench_launch(options.ledgerd, dir, options.work_dir / "purge-ledgerd.log"));
    auto session = bench_session(ledgerd.address());
    auto& connection = session->connection();
    capnp::MallocMessageBuilder message;
    auto purge = client::new_request(message, 2).initPurge();
    purge.setConfirm(true);
    purge.setWait(true);
    const auto start = Clock::now();
    const auto start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    auto reply = connection.call(message);
    const double round_trip = seconds_since(start);
    auto response = reply.get();
    if (!response.isPurged()) throw std::runtime_error("ledgerd did not purge");
    auto purged = response.getPurged();
    const auto erasure = purged.getErasure();
    if (erasure.getErasureState() != protocol::ErasureState::VERIFIED) {
      throw std::runtime_error("the erasure pass did not finish: " + std::string(erasure.getState().cStr()));
    }
    const auto typed = erasure.getErasureReport();
    const auto number = [](auto value) { return static_cast<double>(value); };
    const double pass = number(typed.getDurationMs()) / 1000.0;
    report.add("purged", static_cast<double>(purged.getPurged()));
    report.add("seconds", pass);
    report.add("command_seconds", round_trip);
    // Command to unreadable: the purged customers' keys destroyed and checked gone (the report's
    // wall-clock time of that check); command to absent: the answer, held until the pass verified.
    if (!typed.hasUnreadable()) throw std::runtime_error("the erasure report has no 'unreadable'");
    report.add("unreadable_seconds", (number(typed.getUnreadable().getAtUs()) - static_cast<double>(start_us)) / 1e6);
    report.add("absent_seconds", round_trip);
    // Command to the start of the compaction pass: the purge itself, then the worker waking.
    report.add("start_seconds", (number(typed.getStartedAtUs()) - static_cast<double>(start_us)) / 1e6);
    report.add("compaction_ms", number(typed.getCompactionMs()));
    report.add("flush_ms", number(typed.getFlushMs()));
    report.add("compacted_file_bytes", number(typed.getCompactedFileBytes()));
    report.add("live_sst_bytes", number(typed.getLiveSstBytes()));
    report.add("probes", number(typed.getProbes()));
    report.add("files_scanned", number(typed.getFilesScanned()));
    report.add("bytes_scanned", number(typed.getBytesScanned()));
    report.add("probe_filter_ms", number(typed.getProbeFilterMs()));
    report.add("verify_ms", number(typed.getVerifyMs()));
    report.add("bytes_before", number(typed.getBytesBefore()));
    report.add("bytes_reclaimed", number(typed.getBytesReclaimed()));
    report.add("residue", number(typed.getResidue()));
    report.add("verified", typed.getVerified() ? 1 : 0);
    report.add("rss_mb", peak_rss_mb(ledgerd.pid()));
  }
  {
    auto db = eventstore::Database::open(bare_dir, {});
    const auto start = Clock::now();
    eventstore::Database::check(db->db().Flush(rocksdb::FlushOptions(), db->all_families()), "flush");
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* family : db->all_families()) {
      eventstore::Database::check(db->db().CompactRange(compact, family, nullptr, nullptr), "compaction");
    }
    const double raw = seconds_since(start);
    report.add("raw_seconds", raw);
    const double* pass = report.number("seconds");
    report.add("ratio", *pass > 0 ? raw / *pass : 0);
    report.add("pass_over_bare", raw > 0 ? *pass / raw : 0);
  }
  fs::remove_all(dir);
  fs::remove_all(bare_dir);
  return report;
}

BenchReport run_open_bench(const StoreBenchOptions& options) {
  BenchReport report("open");
  const auto dir = options.work_dir / "open";
  fs::remove_all(dir);
  FillPlan plan;
  plan.customers = options.customers;
  const auto fill = fill_ledger(dir, plan);
  report.add("customers", static_cast<double>(options.customers));
  report.add("events", static_cast<double>(fill.events));
  report.add("fill_seconds", fill.seconds);
  // An untimed open first, so that both timed opens find the files in the page cache and
  // nothing left in the write-ahead log to recover.
  eventstore::Database::open(dir, {})->close();
  {
    const auto start = Clock::now();
    auto db = eventstore::Database::open(dir, {});
    report.add("raw_seconds", seconds_since(start));
    db->close();
  }
  {
    LedgerdProcess ledgerd(bench_launch(options.ledgerd, dir, options.work_dir / "open-ledgerd.log"));
    report.add("seconds", ledgerd.startup_seconds());
    report.add("ratio", *report.number("raw_seconds") / ledgerd.startup_seconds());
    // Some reads across the whole ledger, so that the figure includes a working block cache.
    auto session = bench_session(ledgerd.address());
    auto& connection = session->connection();
    std::mt19937_64 random(7);
    std::uniform_int_distribution<std::uint64_t> pick(1, std::max<std::uint64_t>(options.customers, 1));
    std::uint64_t found = 0;
    for (std::uint64_t id = 2; id < 10'002; ++id) {
      capnp::MallocMessageBuilder message;
      client::new_request(message, id).initGet().setNumber(pick(random));
      if (connection.call(message).get().isCustomer()) ++found;
    }
    report.add("reads", 10'000);
    report.add("reads_found", static_cast<double>(found));
    report.add("rss_mb", peak_rss_mb(ledgerd.pid()));
  }
  fs::remove_all(dir);
  return report;
}

}  // namespace ledger::bench
