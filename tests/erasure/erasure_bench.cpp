// Measures the erasure pass against a bare full compaction of the same database (not a test:
// nothing is asserted). Fills a ledger through the command service with marked customers
// (three events each, plus deletes), purges every 100th with a GroupBatch of its own (so that no
// erasure worker starts a pass), copies the directory, then times run_erasure_pass on one copy
// and Flush + CompactRange (bottommost forced, every family) on the other.
//
// usage: erasure_bench <work dir> <customers> [bare-first]
// The filled ledger (before the purge) is kept in <work dir>/filled-<customers> and reused by the
// next run with the same size, so that repeated measurements skip the fill.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "erasure/marked_ledger.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/pending_erasure.h"
#include "projections/projector.h"
#include "server/group_batch.h"
#include "server/open_ledger.h"

using namespace ledger;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4 || (argc == 4 && std::string_view(argv[3]) != "bare-first")) {
    std::fprintf(stderr, "usage: %s <work dir> <customers> [bare-first]\n", argv[0]);
    return 2;
  }
  const fs::path work = argv[1];
  const fs::path a = work / "pass", b = work / "bare";
  testing::MarkedLedgerPlan plan;
  plan.customers = std::atoi(argv[2]);
  plan.purge_every = 100;
  if (plan.customers < 100) {
    std::fprintf(stderr, "erasure_bench: <customers> must be at least 100\n");
    return 2;
  }
  const fs::path filled = work / ("filled-" + std::to_string(plan.customers));
  fs::remove_all(a);
  fs::remove_all(b);
  std::uint64_t events = 0;
  std::vector<std::string> probes;
  std::vector<std::uint64_t> pending;
  if (!fs::exists(filled)) {
    auto start = Clock::now();
    const fs::path partial = work / "filling";
    fs::remove_all(partial);
    {
      auto db = eventstore::Database::open(partial, {});
      {
        auto opened = server::open_ledger(*db);
        auto& service = *opened;
        testing::fill_marked_ledger(service, plan);
      }
      db->close();
    }
    fs::rename(partial, filled);
    std::printf("filled %d customers in %.1f s\n", plan.customers, seconds_since(start));
  }
  fs::copy(filled, a, fs::copy_options::recursive);
  {
    auto start = Clock::now();
    auto db = eventstore::Database::open(a, {});
    server::GroupBatch batch(*db, server::prepare_ledger(*db));
    const auto outcome = batch.add(domain::PurgeDeletedCustomers{true, {}}, server::RequestContext{});
    if (!std::holds_alternative<server::Accepted>(outcome)) return 3;
    rocksdb::WriteOptions sync;
    sync.sync = true;
    eventstore::Database::check(db->db().Write(sync, batch.finish()), "writing the purge");
    for (auto& [seq, seq_probes] : batch.take_purge_probes()) {
      pending.push_back(seq);
      probes.insert(probes.end(), seq_probes.begin(), seq_probes.end());
    }
    events = batch.state().head.next_seq - 1;
    std::printf("%d customers, %llu events, purged in %.1f s; %zu probes\n", plan.customers,
                static_cast<unsigned long long>(events), seconds_since(start), probes.size());
  }
  fs::copy(a, b, fs::copy_options::recursive);

  const auto pass = [&] {
    auto db = eventstore::Database::open(a, {});
    auto start = Clock::now();
    auto report = eventstore::run_erasure_pass(*db, pending, probes);
    const double seconds = seconds_since(start);
    std::printf("erasure pass: %.2f s (probe filter %llu ms, flush %llu ms, compaction %llu ms, verify %llu ms), "
                "verified %d, residue %llu, %llu files, %llu bytes scanned\n",
                seconds, static_cast<unsigned long long>(report.probe_filter_ms),
                static_cast<unsigned long long>(report.flush_ms), static_cast<unsigned long long>(report.compaction_ms),
                static_cast<unsigned long long>(report.verify_ms), report.verified(),
                static_cast<unsigned long long>(report.residue), static_cast<unsigned long long>(report.files_scanned),
                static_cast<unsigned long long>(report.bytes_scanned));
    return seconds;
  };
  const auto bare = [&] {
    auto db = eventstore::Database::open(b, {});
    auto start = Clock::now();
    eventstore::Database::check(db->db().Flush(rocksdb::FlushOptions(), db->all_families()), "flush");
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* family : db->all_families()) {
      eventstore::Database::check(db->db().CompactRange(compact, family, nullptr, nullptr), "compact");
    }
    const double seconds = seconds_since(start);
    std::printf("bare flush + CompactRange (kForce): %.2f s\n", seconds);
    return seconds;
  };
  const bool bare_first = argc == 4;
  double pass_seconds = 0, bare_seconds = 0;
  if (bare_first) bare_seconds = bare();
  pass_seconds = pass();
  if (!bare_first) bare_seconds = bare();
  std::printf("pass / bare compaction: %.2f\n", pass_seconds / bare_seconds);
  fs::remove_all(a);
  fs::remove_all(b);
  return 0;
}
