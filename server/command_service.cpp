#include "server/command_service.h"

#include <algorithm>
#include <filesystem>
#include <future>

#include <time.h>

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/sorted_batch.h"
#include "projections/erasure_probes.h"
#include "server/allocator.h"
#include "server/erasure_worker.h"

namespace ledger::server {
namespace {

// CPU time of the calling thread, ns.
std::uint64_t thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace

CommandService::CommandService(eventstore::Database& database, WriterState start, CommandServiceOptions options)
    : database_(database),
      options_(std::move(options)),
      state_(start),
      durable_(std::move(start)),
      search_(options_.search_hooks) {}

void CommandService::start() {
  ErasureWorkerOptions erasure;
  erasure.quiescence_timeout = options_.erasure_quiescence_timeout;
  erasure.on_stage = [this](eventstore::ErasureStage stage) {
    if (options_.erasure_stage_hook) options_.erasure_stage_hook(stage);
    if (crash_stage(options_.crash_at) == stage) crash_now(options_.crash_at);
  };
  erasure.on_report = options_.erasure_report_hook;
  erasure_ = std::make_unique<ErasureWorker>(database_, std::move(erasure));
  // Changes committed while it loads are kept by the index and applied over what it read.
  if (options_.search_index) search_loader_ = std::thread([this] {
    try {
      const auto started = std::chrono::steady_clock::now();
      search_.load(database_);
      // The load's buffers are freed in many small pieces; hand their pages back.
      release_free_memory();
      const auto stats = search_.stats();
      spdlog::info("search index loaded: {} customers, {} trigrams, {} MB of bitmaps, {} MB of text, in {} ms",
                   stats.customers, stats.trigrams, stats.bitmap_bytes >> 20, stats.text_bytes >> 20,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    } catch (const std::exception& error) {
      spdlog::error("the search index could not be loaded ({}); searches are refused until a restart", error.what());
    }
  });
  publisher_ = std::thread([this] { run_publisher(); });
  committer_ = std::thread([this] { run_committer(); });
  writer_ = std::thread([this] { run_writer(); });
}

CommandService::~CommandService() { stop(); }

void CommandService::stop() {
  {
    eventstore::MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (committer_.joinable()) committer_.join();
  {
    eventstore::MutexLock lock(mutex_);
    publisher_stopping_ = true;
  }
  publish_wake_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  if (search_loader_.joinable()) search_loader_.join();
  if (erasure_) erasure_->stop();
}

void CommandService::submit(domain::Command command, RequestContext context, Callback done, Submit how) {
  eventstore::MutexLock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    done(Failure{FailureCode::kShuttingDown, "the ledger is shutting down; retry against the restarted server"});
    return;
  }
  if (queue_.size() >= options_.max_queue) {
    lock.unlock();
    done(Failure{FailureCode::kBusy, "the ledger is busy; retry shortly with the same request key"});
    return;
  }
  if (how == Submit::kWriteIfAlone && !deciding_ && !writing_ && publications_.empty() && !publishing_ &&
      queue_.empty() && last_group_ <= 1) {
    deciding_ = true;
    last_group_ = 1;
    auto written = settle_written_group();
    lock.unlock();
    written.reset();
    write_alone({std::move(command), std::move(context), std::move(done)});
    return;
  }
  queue_.push_back({std::move(command), std::move(context), std::move(done)});
  lock.unlock();
  wake_.notify_one();
}

Outcome CommandService::execute(domain::Command command, RequestContext context) {
  std::promise<Outcome> promise;
  auto future = promise.get_future();
  submit(std::move(command), std::move(context), [&promise](Outcome outcome) { promise.set_value(std::move(outcome)); },
         Submit::kWriteIfAlone);
  return future.get();
}

std::unique_ptr<CommandService::Group> CommandService::settle_written_group() {
  if (!failed_write_.empty()) {
    state_ = durable_;
    failed_write_.clear();
  }
  return std::move(written_);
}

void CommandService::write_alone(Pending pending) {
  struct Release {
    CommandService& self;
    ~Release() {
      // Notified under the lock: once the writer thread sees the state free, stop() may return
      // and this service go away, so nothing of it is touched after the lock is released.
      // Only when the writer thread has something to do: with nothing queued it would wake just
      // to wait again, a futex wake on this thread and a context switch on the other core per
      // lone command (8 % of ledgerd's CPU at 1 x 1).
      eventstore::MutexLock guard(self.mutex_);
      self.deciding_ = false;
      if (self.stopping_ || !self.queue_.empty()) self.wake_.notify_all();
    }
  } release{*this};
  Group group;
  group.commands.push_back(std::move(pending));
  std::string failure;
  try {
    decide(group, nullptr);
    auto publication = write_group(group, failure);
    publish(publication);
    if (failure.empty()) return;
  } catch (...) {
    // Whatever was not written, the next command must not be decided over it.
    eventstore::MutexLock guard(mutex_);
    state_ = durable_;
    throw;
  }
  eventstore::MutexLock guard(mutex_);
  state_ = durable_;
}

void CommandService::run_writer() {
  for (;;) {
    auto group = std::make_unique<Group>();
    GroupBatch* below = nullptr;
    std::unique_ptr<Group> retired;
    {
      eventstore::MutexLock lock(mutex_);
      while (deciding_ || (!stopping_ && queue_.empty())) wake_.wait(lock);
      if (queue_.empty()) {
        // Stopping, nothing queued: once the committer has written the last group, it ends too
        // (and the publisher, once it has answered it).
        while (writing_) wake_.wait(lock);
        committer_stopping_ = true;
        commit_wake_.notify_one();
        return;
      }
      deciding_ = true;
      while (!queue_.empty() && group->commands.size() < options_.max_batch) {
        if (!group->commands.empty() && GroupBatch::must_lead_batch(queue_.front().command)) break;
        group->commands.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last_group_ = group->commands.size();
      // A purge reads rows that batches do not index: it waits until the group before it is durable.
      if (GroupBatch::must_lead_batch(group->commands.front().command)) {
        while (writing_) wake_.wait(lock);
      }
      if (writing_) {
        below = written_->batch.get();
        below_in_use_ = true;
      } else {
        retired = settle_written_group();
      }
    }
    retired.reset();
    decide(*group, below);
    std::string failed_below;
    {
      eventstore::MutexLock lock(mutex_);
      while (writing_) wake_.wait(lock);
      below_in_use_ = false;
      if (below) failed_below = failed_write_;
      retired = settle_written_group();
      if (failed_below.empty()) {
        written_ = std::move(group);
        writing_ = true;
        commit_wake_.notify_one();
      }
      deciding_ = false;
      wake_.notify_all();
    }
    retired.reset();
    if (group) fail_over_failed_write(*group, failed_below);
  }
}

void CommandService::run_committer() {
  for (;;) {
    Group* group = nullptr;
    {
      eventstore::MutexLock lock(mutex_);
      while (!writing_ && !committer_stopping_) commit_wake_.wait(lock);
      if (!writing_) return;
      group = written_.get();
    }
    std::string failure;
    auto publication = write_group(*group, failure);
    std::unique_ptr<Group> retired;
    {
      eventstore::MutexLock lock(mutex_);
      failed_write_ = std::move(failure);
      writing_ = false;
      // Dropped here unless the writer decides over it; then it drops it once it is done.
      if (!below_in_use_) retired = std::move(written_);
      publications_.push_back(std::move(publication));
      wake_.notify_all();
      publish_wake_.notify_one();
    }
  }
}

void CommandService::run_publisher() {
  for (;;) {
    Publication publication;
    {
      eventstore::MutexLock lock(mutex_);
      while (publications_.empty() && !publisher_stopping_) publish_wake_.wait(lock);
      if (publications_.empty()) return;
      publication = std::move(publications_.front());
      publications_.pop_front();
      publishing_ = true;
    }
    publish(publication);
    eventstore::MutexLock lock(mutex_);
    publishing_ = false;
  }
}

rocksdb::Status CommandService::write_in_key_order(const rocksdb::WriteOptions& options, rocksdb::WriteBatch& batch) {
  auto sorted = eventstore::sorted_batch(database_, batch);
  return database_.db().Write(options, sorted ? &*sorted : &batch);
}

void CommandService::decide(Group& group, GroupBatch* below) {
  const auto started = thread_cpu_ns();
  group.batch = std::make_unique<GroupBatch>(database_, state_, below);
  std::vector<std::string> request_rows;
  request_rows.reserve(group.commands.size());
  for (const auto& pending : group.commands) request_rows.push_back(GroupBatch::request_row(pending.context));
  if (group.commands.size() > 1) group.batch->prefetch_requests(request_rows);
  group.outcomes.reserve(group.commands.size());
  for (std::size_t i = 0; i < group.commands.size(); ++i) {
    auto& pending = group.commands[i];
    group.outcomes.push_back(group.batch->add(pending.command, pending.context, std::move(request_rows[i])));
  }
  group.rows = group.batch->finish();
  state_ = group.batch->state();
  decide_cpu_ns_.fetch_add(thread_cpu_ns() - started, std::memory_order_relaxed);
}

CommandService::Publication CommandService::write_group(Group& group, std::string& failure) {
  const auto started = thread_cpu_ns();
  Publication publication;
  if (group.rows->Count() != 0) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    std::error_code space_error;
    const auto space = std::filesystem::space(database_.dir(), space_error);
    auto status = options_.before_write ? options_.before_write() : rocksdb::Status::OK();
    if (status.ok() && !space_error && space.available < options_.min_free_disk_bytes) {
      status = rocksdb::Status::NoSpace("fewer than " + std::to_string(options_.min_free_disk_bytes >> 20) +
                                        " MiB free on the ledger's disk; free space");
    }
    const auto write_started = std::chrono::steady_clock::now();
    if (status.ok()) status = write_in_key_order(sync, *group.rows);
    if (status.ok() && options_.group_written_hook) {
      options_.group_written_hook(group.commands.size(), std::chrono::steady_clock::now() - write_started);
    }
    if (status.ok()) {
      {
        // At once: whatever happens next, the writer must never go back before this group.
        eventstore::MutexLock guard(mutex_);
        durable_ = group.batch->state();
      }
      if (options_.crash_at == CrashPoint::kAfterFirstGroup) crash_now(options_.crash_at);
      batches_.fetch_add(1, std::memory_order_relaxed);
      publication.changes = group.batch->take_changes();
      publication.purge_probes = group.batch->take_purge_probes();
      publication.next_seq = group.batch->state().head.next_seq;
    } else {
      failure = "the ledger could not write to disk (" + status.ToString() + ")";
      // Nothing of this group is durable: no accepted outcome may be acknowledged.
      // A retry answered from this same group's pending writes is not durable either.
      const auto first_unwritten = group.batch->first_seq();
      for (auto& outcome : group.outcomes) {
        const auto* a = std::get_if<Accepted>(&outcome);
        const bool in_this_group =
            a && (!a->replayed || std::any_of(a->seqs.begin(), a->seqs.end(),
                                              [&](std::uint64_t seq) { return seq >= first_unwritten; }));
        if (in_this_group) outcome = Failure{FailureCode::kInternal, failure + "; nothing was changed, retry with the same request key"};
      }
    }
  }
  publication.commands = std::move(group.commands);
  publication.outcomes = std::move(group.outcomes);
  write_cpu_ns_.fetch_add(thread_cpu_ns() - started, std::memory_order_relaxed);
  return publication;
}

void CommandService::publish(Publication& publication) {
  const auto started = thread_cpu_ns();
  if (options_.search_index && !publication.changes.empty()) search_.apply(publication.changes);
  if (!publication.purge_probes.empty() && options_.crash_at == CrashPoint::kAfterPurgeBatch) {
    crash_now(options_.crash_at);
  }
  for (auto& [purge_seq, purge_probes] : publication.purge_probes) {
    erasure_->purge_committed(purge_seq, std::move(purge_probes));
  }
  if (publication.next_seq != 0 && commit_listener_) {
    // A group holds at most one purge, which leads it (GroupBatch::must_lead_batch); were there
    // more, the last would do: entries re-read below it show every purge before it too.
    const auto purge_seq = publication.purge_probes.empty() ? 0 : publication.purge_probes.rbegin()->first;
    commit_listener_(publication.next_seq, purge_seq);
  }
  commands_.fetch_add(publication.commands.size(), std::memory_order_relaxed);
  for (std::size_t i = 0; i < publication.commands.size(); ++i) {
    publication.commands[i].done(std::move(publication.outcomes[i]));
  }
  write_cpu_ns_.fetch_add(thread_cpu_ns() - started, std::memory_order_relaxed);
}

void CommandService::fail_over_failed_write(Group& group, const std::string& failure) {
  commands_.fetch_add(group.commands.size(), std::memory_order_relaxed);
  for (auto& pending : group.commands) {
    pending.done(Failure{FailureCode::kInternal, failure + " before this command; nothing of it was written, retry "
                                                           "with the same request key"});
  }
}

std::optional<domain::Customer> CommandService::customer(domain::CustomerNumber number) const {
  return projections::customer_by_number(eventstore::DatabaseReader(database_), number);
}

projections::CustomerPage CommandService::list(projections::CustomerList list, domain::CustomerNumber after,
                                               std::uint32_t limit, const std::string& search) const {
  eventstore::DatabaseReader reader(database_);
  if (search.empty()) return projections::list_customers(reader, list, after, limit);
  if (!options_.search_index) throw projections::SearchNotReady("this process keeps no search index; search through ledgerd");
  return projections::search_customers(reader, search_, list, after, limit, search, options_.search_load_wait);
}

std::vector<projections::HistoryEntry> CommandService::history(domain::CustomerNumber number) const {
  return projections::customer_history(eventstore::DatabaseReader(database_), number);
}

CustomerCounts CommandService::counts() const {
  eventstore::DatabaseReader reader(database_);
  auto count = [&reader](eventstore::Family family) {
    auto it = reader.iterate(family);
    std::uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid() && n < CustomerCounts::kCountCap; it->Next()) ++n;
    return n;
  };
  CustomerCounts counts;
  counts.active = count(eventstore::Family::kActive);
  counts.deleted = count(eventstore::Family::kDeleted);
  return counts;
}

eventstore::LogHead CommandService::log_head() const { return eventstore::load_head(eventstore::DatabaseReader(database_)); }

bool CommandService::is_purge(std::uint64_t seq) const {
  const auto entry = eventstore::read_entry(eventstore::DatabaseReader(database_), seq);
  return entry && entry->kind == static_cast<std::uint16_t>(domain::EventKind::kPurged);
}

std::optional<domain::CustomersPurged> CommandService::purge_receipt(std::uint64_t purge_seq) const {
  return projections::purge_receipt(eventstore::DatabaseReader(database_), purge_seq);
}

std::optional<eventstore::ErasureReport> CommandService::wait_for_erasure(std::uint64_t purge_seq,
                                                                         std::chrono::milliseconds timeout) {
  return erasure_->wait_for_report(purge_seq, timeout);
}

void CommandService::await_erasure(std::uint64_t purge_seq, std::chrono::milliseconds timeout,
                                   std::function<void(eventstore::ErasureReport)> done) {
  erasure_->await_report(purge_seq, timeout, std::move(done));
}

void CommandService::end_erasure_waits() { erasure_->end_waits(); }

std::optional<eventstore::ErasureReport> CommandService::erasure_report(std::uint64_t purge_seq) const {
  return eventstore::erasure_report(eventstore::DatabaseReader(database_), purge_seq);
}

WriterStats CommandService::stats() const {
  return {batches_.load(std::memory_order_relaxed), commands_.load(std::memory_order_relaxed),
          decide_cpu_ns_.load(std::memory_order_relaxed), write_cpu_ns_.load(std::memory_order_relaxed)};
}

}  // namespace ledger::server
