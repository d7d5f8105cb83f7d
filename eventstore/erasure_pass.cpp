#include "eventstore/erasure_pass.h"

#include <algorithm>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <rocksdb/utilities/debug.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/data_directory.h"
#include "eventstore/erasure_compaction.h"
#include "eventstore/erasure_verification.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/probe_matcher.h"
#include "eventstore/shared_probes.h"

namespace ledger::eventstore {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(10);
// A compaction job splits its key range over up to this many threads.
constexpr std::size_t kCompactionThreads = 4;

std::uint64_t ms_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

bool stopping(const ErasurePassOptions& options) { return options.stop && options.stop->load(); }

void reach(const ErasurePassOptions& options, ErasureStage stage) {
  if (options.on_stage) options.on_stage(stage);
}

void store(Database& database, const ErasureReport& report) {
  rocksdb::WriteBatch batch;
  put_erasure_report(database, batch, report);
  if (report.verified()) {
    for (auto seq : report.purge_seqs) clear_pending_erasure(database, batch, seq);
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(database.db().Write(sync, &batch), "storing the erasure report");
}

}  // namespace

std::string_view stage_name(ErasureStage stage) {
  switch (stage) {
    case ErasureStage::kProbesFiltered: return "probes_filtered";
    case ErasureStage::kFlushed: return "flushed";
    case ErasureStage::kFirstFamilyCompacted: return "first_family_compacted";
    case ErasureStage::kCompacted: return "compacted";
    case ErasureStage::kQuiescent: return "quiescent";
    case ErasureStage::kVerified: return "verified";
  }
  return "unknown";
}

ErasureReport run_erasure_pass(Database& database, const std::vector<std::uint64_t>& purge_seqs,
                               std::vector<std::string> probes, ProbeCoverage coverage,
                               const ErasurePassOptions& options) {
  const auto start = Clock::now();
  ErasureReport report;
  report.purge_seqs = purge_seqs;
  report.keys = options.keys;
  report.purged_entries = coverage.purged_entries;
  report.entries_probed = coverage.entries_read;
  std::sort(report.purge_seqs.begin(), report.purge_seqs.end());
  report.started_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const auto seqs_text = fmt::format("{}", fmt::join(report.purge_seqs, ","));
  try {
    report.bytes_before = directory_bytes(database.dir());
    // Dropping the shared probes reads the surviving data through the database (what it reads
    // does not change under a compaction), so it runs on a thread of its own while this one
    // flushes and compacts.
    std::atomic<bool> abandon_filter{false};
    auto purged = options.purged_customers;
    std::sort(purged.begin(), purged.end());
    auto filtered = std::async(std::launch::async, [&, probes = std::move(probes)]() mutable {
      const auto filter_start = Clock::now();
      auto kept = drop_shared(database, std::move(probes), purged, report.probes_shared, report.unredacted_entries,
                              abandon_filter);
      report.probe_filter_ms = ms_since(filter_start);
      return kept;
    });
    // Joined on every way out of the try block: the thread uses `report` and `database`.
    struct JoinFilter {
      std::atomic<bool>& abandon;
      std::future<std::vector<std::string>>& filtered;
      ~JoinFilter() {
        if (filtered.valid()) {
          abandon = true;
          filtered.wait();
        }
      }
    } join_filter{abandon_filter, filtered};

    // Flush first: an idle family's unflushed data keeps the old WAL files alive.
    auto phase = Clock::now();
    rocksdb::FlushOptions flush;
    flush.wait = true;
    Database::check(database.db().Flush(flush, database.all_families()), "flushing before erasure");
    report.flush_ms = ms_since(phase);
    reach(options, ErasureStage::kFlushed);

    phase = Clock::now();
    rocksdb::CompactRangeOptions compact;
    // Bottommost files are rewritten too (they hold the old versions), but not a second time
    // when this compaction has just written them.
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    compact.exclusive_manual_compaction = false;  // the writer's flushes and compactions go on
    compact.canceled = options.stop;
    // A compaction job splits its key range over this many threads.
    compact.max_subcompactions = static_cast<std::uint32_t>(
        std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kCompactionThreads));
    ErasureTargets targets;
    targets.customers = options.purged_customers;
    std::sort(targets.customers.begin(), targets.customers.end());
    targets.numbers = options.purged_numbers;
    std::sort(targets.numbers.begin(), targets.numbers.end());
    targets.log_seqs = options.redacted_seqs;
    bool first_family = true;
    const auto compacted = compact_for_erasure(
        database, targets, compact, [&] { return stopping(options); },
        [&] {
          if (first_family) reach(options, ErasureStage::kFirstFamilyCompacted);
          first_family = false;
        });
    report.compaction_ranges = compacted.ranges;
    report.compacted_files = compacted.files;
    report.compacted_file_bytes = compacted.bytes;
    report.live_sst_bytes = compacted.sst_bytes;
    report.compaction_ms = ms_since(phase);
    if (!stopping(options)) reach(options, ErasureStage::kCompacted);

    // An abandoned filter returns what it had not yet seen in surviving data too: used only
    // when stopping, where nothing is verified.
    if (stopping(options)) abandon_filter = true;
    const ProbeMatcher matcher(filtered.get());
    report.probes = matcher.size();
    if (!stopping(options)) reach(options, ErasureStage::kProbesFiltered);

    phase = Clock::now();
    const auto deadline = Clock::now() + options.quiescence_timeout;
    std::optional<Clock::time_point> last_scan;
    while (!stopping(options)) {
      if (quiet(database) && no_stray_files(database, last_scan)) {
        report.quiescent = true;
        break;
      }
      if (Clock::now() >= deadline) break;
      std::this_thread::sleep_for(kPollInterval);
    }
    if (stopping(options)) {
      report.state = ErasureState::kStopped;
      spdlog::info("erasure pass for purge(s) {} stopped before verification; it runs again at the next start",
                   seqs_text);
      return report;
    }
    reach(options, ErasureStage::kQuiescent);
    report.stray_files = stray_files(database);
    verify_files(database, matcher, report);
    report.verify_ms = ms_since(phase);
    report.bytes_after = directory_bytes(database.dir());
    report.duration_ms = ms_since(start);
    reach(options, ErasureStage::kVerified);
  } catch (const std::exception& error) {
    report.error = error.what();
    report.duration_ms = ms_since(start);
  }

  report.state = report.findings();
  store(database, report);
  if (report.verified()) {
    spdlog::info("erasure verified for purge(s) {}: {} ({} probes from {} of {} purged entries), {} files / {} "
                 "bytes scanned, residue 0, {} bytes reclaimed, {} ms",
                 seqs_text, check_name(report.check()), report.probes, report.entries_probed, report.purged_entries,
                 report.files_scanned, report.bytes_scanned,
                 report.bytes_reclaimed(), report.duration_ms);
  } else {
    std::vector<std::string> holders;
    for (const auto& r : report.residue_files) holders.push_back(fmt::format("{} ({} hits)", r.file, r.hits));
    spdlog::error(
        "ERASURE NOT VERIFIED for purge(s) {}: residue {} in [{}]; stray files [{}]; undecodable files [{}]; "
        "log entries of purged customers not redacted [{}]; quiescent {}; error '{}'. The purged customers' bytes "
        "may still be on disk; the erasure stays pending and runs again at the next purge or start-up.",
        seqs_text, report.residue, fmt::join(holders, ", "), fmt::join(report.stray_files, ", "),
        fmt::join(report.unverifiable_files, ", "), fmt::join(report.unredacted_entries, ", "), report.quiescent,
        report.error);
  }
  return report;
}

std::vector<std::string> stored_versions(Database& database, Family family, std::string_view key) {
  std::vector<rocksdb::KeyVersion> versions;
  const rocksdb::Slice k(key.data(), key.size());
  Database::check(rocksdb::GetAllKeyVersions(&database.db(), database.family(family), k, k, 1'000, &versions),
                  "reading stored versions");
  std::vector<std::string> values;
  constexpr int kTypeValue = 1;  // RocksDB's ValueType for a Put
  for (auto& v : versions) {
    if (v.type == kTypeValue && v.user_key == key) values.push_back(std::move(v.value));
  }
  return values;
}

}  // namespace ledger::eventstore
