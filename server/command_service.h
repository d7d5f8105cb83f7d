// CommandService: the ledger's write path and reads, in process. Many threads submit commands;
// one writer thread takes every queued command, decides each against the database overlaid
// with the batch being built (RocksDB's WriteBatchWithIndex), and hands the group to a
// committer thread, which writes the events and every projection change in one WriteBatch
// with sync = true (one fsync shared by the whole group) and hands what is left to a publisher
// thread: it applies the group's changes to the search index and only then answers each
// command. The committer writes the next group meanwhile; groups are published in the order
// they were written.
//
// While a group is written, the writer decides the next one over it: against the database
// overlaid with the group being written and then with its own batch (server/group_batch.h).
// That group is handed over only once the one below it is durable; if that one's
// write failed, every command of the group decided over it fails too, nothing of it is written,
// and the writer goes on from the last durable state: no later write can leave a hole. A purge,
// which reads rows a batch does not index, waits until the group before it is durable.
//
// A lone client (one command at a time) would pay two thread hand-offs per command, to the
// writer thread and back. So a submitter may ask to write its command itself: when nothing is
// being decided, written or published, nothing is queued and the last group held a single
// command, its group of one is decided, written and published on the submitting thread. Whoever decides holds the
// writer's state alone (`deciding_`); under load the groups are larger and everything goes
// through the queue.
//
// A purge's erasure compaction pass runs on a separate worker thread (ErasureWorker): the
// writer hands it the purge's probes and goes on answering commands.
//
// Search is an in-memory index (projections/search_index.h), loaded on a thread of its own
// from start-up on. Each durable batch's changes are applied to it, in the order of the
// batches, before the batch's commands are answered, so a client sees its own change in its
// next search.
//
// Thread-safe: submit, execute and the reads may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "domain/commands.h"
#include "domain/events.h"
#include "eventstore/database.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/event_log.h"
#include "eventstore/thread_annotations.h"
#include "projections/queries.h"
#include "projections/search_index.h"
#include "server/crash_injection.h"
#include "server/group_batch.h"
#include "server/outcome.h"

namespace ledger::server {

struct RequestContext {
  // Who sent the command; recorded in the log.
  std::string actor = "local";
  // The client's idempotency key: a retry with the same actor and key gets the first outcome.
  // Empty: no idempotency.
  std::string request_key;
};

struct CommandServiceOptions {
  // Most commands decided into one batch (one fsync).
  std::size_t max_batch = 1024;
  // Submissions beyond this many waiting are answered "busy" at once.
  std::size_t max_queue = 100'000;
  // How long an erasure pass waits for readers to let go of old files before it verifies
  // anyway (and, if they still hold them, reports the erasure as not verified).
  std::chrono::milliseconds erasure_quiescence_timeout{60'000};
  // Runs on the erasure worker at each stage of every pass. For tests; must not block long.
  std::function<void(eventstore::ErasureStage)> erasure_stage_hook;
  // A batch is not written while the data directory's filesystem has less free space than
  // this: its commands are refused (nothing changed) until space is freed. RocksDB must not
  // run out of space itself: a failed WAL write stops its writes until a restart.
  std::uint64_t min_free_disk_bytes = std::uint64_t{64} << 20;
  // Whether the service keeps the in-memory search index (loaded at start, updated by every
  // group). ledgerd does; a tool that never searches (ledger-admin's import, purge, compact)
  // leaves it out and saves its load and its upkeep: about a third of an import's CPU. Without
  // it, a list with a search fragment throws projections::SearchNotReady.
  bool search_index = true;
  // How long a search waits for the search index to finish loading at start-up before it is
  // answered "busy".
  std::chrono::milliseconds search_load_wait{30'000};
  // For tests: run on the index's loading thread and when a search starts waiting for it.
  projections::SearchIndex::Hooks search_hooks;
  // For crash tests: where the process dies. A main that runs crash tests reads it from
  // LEDGER_CRASH_AT (crash_point_from_environment); nothing else reads the environment.
  CrashPoint crash_at = CrashPoint::kNever;
  // For tests of failed writes: runs on the writing thread before each group is written; a
  // status other than OK is taken as the write's, and nothing of the group is written.
  std::function<rocksdb::Status()> before_write;
  // For metrics (server/ledger_metrics.h), both must not block: runs on the writing thread after
  // each durable group write, with its commands and the time of its Write (the fsync included) ...
  std::function<void(std::size_t commands, std::chrono::nanoseconds write)> group_written_hook;
  // ... and on the erasure worker with the report of every pass that ran.
  std::function<void(const eventstore::ErasureReport&)> erasure_report_hook;
};

struct WriterStats {
  std::uint64_t batches = 0;   // WriteBatches written (fsyncs)
  std::uint64_t commands = 0;  // commands answered
  // CPU time of the thread writing each group (CLOCK_THREAD_CPUTIME_ID), so waiting for the
  // fsync or a lock does not count: deciding each command, projecting and encoding its
  // entries into the batch (GroupBatch::add) ...
  std::uint64_t decide_cpu_ns = 0;
  // ... and the rest: reordering and writing the batch into RocksDB, the search index, answering.
  std::uint64_t write_cpu_ns = 0;
};

// How many customers the active and the deleted list hold. Counting is a scan of the list, so
// each count stops at kCountCap.
struct CustomerCounts {
  static constexpr std::uint64_t kCountCap = 1'000'000;
  std::uint64_t active = 0;
  std::uint64_t deleted = 0;
};

class CommandService {
 public:
  using Callback = std::function<void(Outcome)>;

  // Wires the service to "*database", which must outlive it and must stand where `start` says
  // (server/open_ledger.h prepares a directory and reads it). Starts no thread and reads
  // nothing: start() does.
  CommandService(eventstore::Database& database, WriterState start, CommandServiceOptions options = {});
  // Starts loading the search index, the erasure worker (which finishes any pending erasure at
  // once) and the writer. Once, before the first command. Throws StorageError when the
  // directory cannot be read.
  void start() EXCLUDES(mutex_);
  // Answers everything queued, then stops the writer.
  ~CommandService();
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  enum class Submit {
    kQueue,         // always hand the command to the writer thread
    kWriteIfAlone,  // write it on the calling thread when the writer is idle and has seen no
                    // concurrency (above); the call then blocks for the fsync. Only for a
                    // command with nothing behind it: a caller holding more commands queues
                    // them all, or each would be written alone after the fsync of the last.
  };

  // Queues a command. `done` runs exactly once after the outcome is durable: on the writer's or
  // the committer's thread, or with kWriteIfAlone possibly on the calling thread before submit
  // returns (at once for busy / shutting down). It must not block.
  void submit(domain::Command command, RequestContext context, Callback done, Submit how = Submit::kQueue)
      EXCLUDES(mutex_);
  // Submits (kWriteIfAlone: the caller waits anyway) and waits for the outcome.
  Outcome execute(domain::Command command, RequestContext context = {}) EXCLUDES(mutex_);

  // Reads see every acknowledged write. A list with a search fragment throws
  // projections::SearchNotReady when the index is not loaded within search_load_wait.
  std::optional<domain::Customer> customer(domain::CustomerNumber number) const;
  projections::CustomerPage list(projections::CustomerList list, domain::CustomerNumber after, std::uint32_t limit,
                                 const std::string& search = {}) const;
  std::vector<projections::HistoryEntry> history(domain::CustomerNumber number) const;
  CustomerCounts counts() const;
  // The log's next seq and the head of its hash chain.
  eventstore::LogHead log_head() const;
  // Whether the log entry at `seq` is a purge; false when there is none.
  bool is_purge(std::uint64_t seq) const;
  // The receipt the purge at `purge_seq` wrote in its log entry; nullopt when there is no entry.
  // Throws CorruptionError when the entry is not a purge (is_purge).
  std::optional<domain::CustomersPurged> purge_receipt(std::uint64_t purge_seq) const;

  // `listener` runs on the thread that wrote, after every durable write and before any command
  // of it is answered, with the log's next seq (every entry below it is readable) and the seq of
  // the purge the write held (0: none; the entries it redacted read as stubs from then on). It
  // must not block: subscribers only wake up on it. Set before submitting commands; not
  // thread-safe with submit.
  using CommitListener = std::function<void(std::uint64_t next_seq, std::uint64_t purge_seq)>;
  void on_commit(CommitListener listener) { commit_listener_ = std::move(listener); }

  // The report of the erasure pass for the purge at `purge_seq` (no personal data; its state
  // says whether the erasure was verified), waiting up to `timeout` for the pass to store it;
  // nullopt on timeout (ErasureWorker::wait_for_report).
  std::optional<eventstore::ErasureReport> wait_for_erasure(std::uint64_t purge_seq, std::chrono::milliseconds timeout);
  // The same without blocking: `done` gets the report, or a pending one on timeout or after
  // end_erasure_waits (ErasureWorker::await_report; it must not block).
  void await_erasure(std::uint64_t purge_seq, std::chrono::milliseconds timeout,
                     std::function<void(eventstore::ErasureReport)> done);
  // Answers every erasure wait now and later as pending; the passes go on (shutdown).
  void end_erasure_waits();
  // The stored report for the purge at `purge_seq`, nullopt when no pass has covered it yet.
  std::optional<eventstore::ErasureReport> erasure_report(std::uint64_t purge_seq) const;

  WriterStats stats() const;
  eventstore::Database& database() const { return database_; }

  // Stops accepting, answers what is queued, joins the writer; cancels a running erasure pass
  // (it is finished at the next start). Idempotent.
  void stop() EXCLUDES(mutex_);

 private:
  struct Pending {
    domain::Command command;
    RequestContext context;
    Callback done;
  };

  // One group commit, from the queue to its answers.
  struct Group {
    std::vector<Pending> commands;
    std::vector<Outcome> outcomes;
    std::unique_ptr<GroupBatch> batch;
    rocksdb::WriteBatch* rows = nullptr;  // batch->finish()
  };

  // What is left of a group once its write returned: published in the order of the writes.
  struct Publication {
    std::vector<projections::SearchIndex::Change> changes;  // empty when the write failed
    std::map<std::uint64_t, std::vector<std::string>> purge_probes;
    std::uint64_t next_seq = 0;  // 0 when the write failed
    std::vector<Pending> commands;
    std::vector<Outcome> outcomes;
  };

  void run_writer() EXCLUDES(mutex_);
  void run_committer() EXCLUDES(mutex_);
  void run_publisher() EXCLUDES(mutex_);
  // Submit::kWriteIfAlone when allowed: decides and writes `pending` on the calling thread,
  // which has taken `deciding_` for it, and gives `deciding_` back.
  void write_alone(Pending pending) EXCLUDES(mutex_);
  // Decides the group's commands from state_ (over `below` when given) and advances state_.
  // Only by whoever holds `deciding_`.
  void decide(Group& group, GroupBatch* below);
  // Writes the group's batch (unless it is empty) and takes the group's state as durable_ as
  // soon as it is; returns what is left to publish. On failure `failure` says why and every
  // outcome acknowledged by this group is turned into that failure.
  Publication write_group(Group& group, std::string& failure) EXCLUDES(mutex_);
  // Applies a written group's changes to the search index, hands purges to the erasure worker,
  // tells the commit listener and then answers every command.
  void publish(Publication& publication) EXCLUDES(mutex_);
  // Answers every command of a group decided over one whose write failed.
  void fail_over_failed_write(Group& group, const std::string& failure);
  // Before deciding a group not over the one written last: when that one's write failed, the
  // writer goes on from what is durable. Holding mutex_ and `deciding_`; returns that group for
  // the caller to drop outside the lock.
  std::unique_ptr<Group> settle_written_group() REQUIRES(mutex_);
  // The group's batch in key order (eventstore/sorted_batch.h): RocksDB inserts it faster.
  rocksdb::Status write_in_key_order(const rocksdb::WriteOptions& options, rocksdb::WriteBatch& batch);

  eventstore::Database& database_;
  const CommandServiceOptions options_;

  // The writer's state after every group decided so far: used only by whoever holds `deciding_`.
  WriterState state_;
  CommitListener commit_listener_;

  mutable eventstore::Mutex mutex_;
  std::condition_variable_any wake_;         // the queue, `deciding_` or the group written changed
  std::condition_variable_any commit_wake_;  // a group to write, or the committer's end
  std::deque<Pending> queue_ GUARDED_BY(mutex_);
  bool stopping_ GUARDED_BY(mutex_) = false;
  bool deciding_ GUARDED_BY(mutex_) = false;     // a thread holds state_ and decides a group
  std::size_t last_group_ GUARDED_BY(mutex_) = 0;  // commands in the last group decided
  // The last group handed to the committer; kept while the writer decides over it.
  std::unique_ptr<Group> written_ GUARDED_BY(mutex_);
  bool writing_ GUARDED_BY(mutex_) = false;       // the committer has not written written_ yet
  bool below_in_use_ GUARDED_BY(mutex_) = false;  // the writer decides over written_
  // Why the last group's write failed; empty when it did not, or once the writer went on.
  std::string failed_write_ GUARDED_BY(mutex_);
  WriterState durable_ GUARDED_BY(mutex_);  // the state after every durable group
  bool committer_stopping_ GUARDED_BY(mutex_) = false;
  std::condition_variable_any publish_wake_;  // a publication queued, or the publisher's end
  std::deque<Publication> publications_ GUARDED_BY(mutex_);  // written, not yet published
  bool publishing_ GUARDED_BY(mutex_) = false;               // the publisher holds one
  bool publisher_stopping_ GUARDED_BY(mutex_) = false;
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> decide_cpu_ns_{0};
  std::atomic<std::uint64_t> write_cpu_ns_{0};
  projections::SearchIndex search_;
  std::thread search_loader_;
  std::thread writer_;
  std::thread committer_;
  std::thread publisher_;
  std::unique_ptr<class ErasureWorker> erasure_;
};

}  // namespace ledger::server
