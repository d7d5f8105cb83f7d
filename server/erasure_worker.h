// ErasureWorker: runs the erasure compaction pass (eventstore/erasure_pass.h) on its own thread,
// so that the writer never waits for a flush, a compaction or a scan. It runs a pass when a purge
// is committed and, at start, when pending-erasure records are on disk (a pass that a crash or a
// shutdown cut short is finished then). A pass covers every pending erasure at once.
//
// Each pass first destroys the purged customers' keys (KeyStore::shred), which makes their sealed
// values unreadable everywhere, then compacts them away. Probes handed in by the writer stay in
// memory until their erasure is verified; for a pending erasure without them (after a restart) they are recovered from the old versions RocksDB still
// holds.
//
// Waiting for a purge's report is the worker's too: it knows when a pass ends, so a wait is
// answered then (or at its deadline, or when waits end at shutdown) without polling or a thread
// of its own. Thread-safe: every public function may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/events.h"
#include "eventstore/database.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/thread_annotations.h"

namespace ledger::server {

struct ErasureWorkerOptions {
  std::chrono::milliseconds quiescence_timeout{60'000};
  // Runs on the worker thread at each stage of every pass (tests; crash injection).
  std::function<void(eventstore::ErasureStage)> on_stage;
  // Runs on the worker thread once a pass has destroyed the purged customers' keys, before the
  // compaction (tests; crash injection).
  std::function<void()> on_keys_destroyed;
  // Runs on the worker thread with the report of every pass that ran (metrics); must not block.
  std::function<void(const eventstore::ErasureReport&)> on_report;
};

class ErasureWorker {
 public:
  // "*database" must outlive the worker. Starts the thread; a pass starts at once when
  // erasures are pending.
  ErasureWorker(eventstore::Database& database, ErasureWorkerOptions options);
  // stop().
  ~ErasureWorker();
  ErasureWorker(const ErasureWorker&) = delete;
  ErasureWorker& operator=(const ErasureWorker&) = delete;

  // The purge at `purge_seq` is durable; its probes join the next pass, which is started.
  // Takes mutex_, which await_report and the worker's answering of waits also hold while they
  // read the pending-erasure records from RocksDB: the writer, which calls this, may wait for
  // such a read (a prefix scan of `meta`), never for a pass.
  void purge_committed(std::uint64_t purge_seq, std::vector<std::string> probes) EXCLUDES(mutex_);

  // Calls `done` exactly once with the stored report for `purge_seq` once its erasure is
  // verified (in this process or an earlier one) or a pass of this worker covering it has ended
  // unverified; with a pending report (state kPending, nothing else set) when `timeout` passes
  // first (noticed between passes: at the latest when the pass running then ends) or waits end
  // (end_waits, stop) before the report is there. `done` runs on the calling thread when the answer is known at once, else
  // on the worker's thread or the one ending the waits: it must not block or call the worker.
  void await_report(std::uint64_t purge_seq, std::chrono::milliseconds timeout,
                    std::function<void(eventstore::ErasureReport)> done) EXCLUDES(mutex_);
  // The same, blocking: the report, or nullopt when the answer is pending.
  std::optional<eventstore::ErasureReport> wait_for_report(std::uint64_t purge_seq, std::chrono::milliseconds timeout)
      EXCLUDES(mutex_);
  // Answers every wait pending now and every later one at once (at shutdown, so that waiting
  // clients are answered while their connections are open); passes go on. Idempotent.
  void end_waits() EXCLUDES(mutex_);

  // Cancels a running pass (its erasure stays pending for the next start), joins, and ends the
  // waits. Idempotent.
  void stop() EXCLUDES(mutex_);

 private:
  using Clock = std::chrono::steady_clock;
  struct Wait {
    std::uint64_t purge_seq = 0;
    Clock::time_point deadline;
    std::function<void(eventstore::ErasureReport)> done;
  };

  void run() EXCLUDES(mutex_);
  void run_pass() EXCLUDES(mutex_);
  // Whether `purge_seq`'s report is final: not pending on disk, or covered by a pass of this
  // worker that ran to its end.
  bool settled(const eventstore::Reader& reader, std::uint64_t purge_seq) const REQUIRES(mutex_);
  // Answers the waits whose purge is settled or whose deadline has passed.
  void answer_waits() EXCLUDES(mutex_);
  // The stored report for a settled purge (pending if it cannot be read).
  eventstore::ErasureReport report_of(std::uint64_t purge_seq) const;
  // A purge's probes and what they were taken from.
  struct Probes {
    std::vector<std::string> values;
    eventstore::ProbeCoverage coverage;
  };
  // The probes of every pending purge, given with its receipt: those handed over by
  // purge_committed (taken from every entry it redacted), else recovered from the old versions
  // RocksDB still holds (automatic compactions are held until then).
  Probes collect_probes(const std::vector<std::uint64_t>& pending, const std::vector<domain::CustomersPurged>& receipts)
      EXCLUDES(mutex_);

  eventstore::Database& database_;
  const ErasureWorkerOptions options_;
  std::atomic<bool> stop_{false};

  eventstore::Mutex mutex_;
  std::condition_variable_any wake_;  // work to do, or stop
  bool work_ GUARDED_BY(mutex_) = false;
  std::map<std::uint64_t, std::vector<std::string>> probes_ GUARDED_BY(mutex_);  // until verified
  std::map<std::uint64_t, eventstore::ProbeCoverage> coverage_ GUARDED_BY(mutex_);  // of recovered probes
  std::set<std::uint64_t> passed_ GUARDED_BY(mutex_);  // purges covered by a pass that ran to its end
  std::vector<Wait> waits_ GUARDED_BY(mutex_);
  bool waits_ended_ GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace ledger::server
