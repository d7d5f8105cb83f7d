// A child process for the crash tests: fills a ledger with marked customers (half of the data
// flushed to SST files, the rest only in the WAL), purges, and waits for the erasure pass.
// The parent sets LEDGER_CRASH_AT, so the process dies on the way; exit status 0 means it did not.
//
// usage: erasure_crash_child <data dir> <customers> <purge every>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "erasure/marked_ledger.h"
#include "server/crash_injection.h"
#include "server/open_ledger.h"

int main(int argc, char** argv) {
  using namespace ledger;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <data dir> <customers> <purge every>\n", argv[0]);
    return 2;
  }
  try {
    auto db = eventstore::Database::open(argv[1], {});
    server::CommandServiceOptions options;
    options.crash_at = server::crash_point_from_environment();
    auto opened = server::open_ledger(*db, std::move(options));
    auto& service = *opened;
    testing::MarkedLedgerPlan plan;
    plan.customers = std::atoi(argv[2]);
    plan.purge_every = std::atoi(argv[3]);
    plan.between = [&](int stage) {
      if (stage == 1) eventstore::Database::check(db->db().Flush(rocksdb::FlushOptions(), db->all_families()), "flush");
    };
    testing::fill_marked_ledger(service, plan);
    auto outcome = service.execute(domain::PurgeDeletedCustomers{true, {}});
    const auto* purge = std::get_if<server::Accepted>(&outcome);
    if (!purge) return 3;
    service.wait_for_erasure(purge->seqs.front(), std::chrono::seconds(60));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 4;
  }
  return 0;
}
