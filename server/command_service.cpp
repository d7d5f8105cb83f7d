#include "server/command_service.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <malloc.h>

#include <time.h>

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/sorted_batch.h"
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
    : database_(database), options_(std::move(options)), state_(std::move(start)), search_(options_.search_hooks) {}

void CommandService::start() {
  ErasureWorkerOptions erasure;
  erasure.quiescence_timeout = options_.erasure_quiescence_timeout;
  erasure.on_stage = [this](eventstore::ErasureStage stage) {
    if (options_.erasure_stage_hook) options_.erasure_stage_hook(stage);
    if (crash_stage(options_.crash_at) == stage) crash_now(options_.crash_at);
  };
  erasure_ = std::make_unique<ErasureWorker>(database_, std::move(erasure));
  // Changes committed while it loads are kept by the index and applied over what it read.
  search_loader_ = std::thread([this] {
    try {
      const auto started = std::chrono::steady_clock::now();
      search_.load(database_);
      // The load's buffers are freed in many small pieces; hand their pages back.
      malloc_trim(0);
      const auto stats = search_.stats();
      spdlog::info("search index loaded: {} customers, {} trigrams, {} MB of bitmaps, {} MB of text, in {} ms",
                   stats.customers, stats.trigrams, stats.bitmap_bytes >> 20, stats.text_bytes >> 20,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    } catch (const std::exception& error) {
      spdlog::error("the search index could not be loaded ({}); searches are refused until a restart", error.what());
    }
  });
  writer_ = std::thread([this] { run_writer(); });
}

CommandService::~CommandService() { stop(); }

void CommandService::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (search_loader_.joinable()) search_loader_.join();
  if (erasure_) erasure_->stop();
}

void CommandService::submit(domain::Command command, RequestContext context, Callback done, Submit how) {
  std::unique_lock lock(mutex_);
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
  if (how == Submit::kWriteIfAlone && !writing_ && queue_.empty() && last_group_ <= 1) {
    std::vector<Pending> group;
    group.push_back({std::move(command), std::move(context), std::move(done)});
    write_group_holding_state(group, lock);
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

void CommandService::write_group_holding_state(std::vector<Pending>& group, std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  last_group_ = group.size();
  lock.unlock();
  struct Release {
    CommandService& self;
    ~Release() {
      // Notified under the lock: once the writer thread sees the state free, stop() may return
      // and this service go away, so nothing of it is touched after the lock is released.
      std::lock_guard guard(self.mutex_);
      self.writing_ = false;
      self.wake_.notify_all();
    }
  } release{*this};
  write_group(group);
}

void CommandService::run_writer() {
  std::vector<Pending> group;
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return !writing_ && (stopping_ || !queue_.empty()); });
    if (queue_.empty()) return;  // stopping, nothing is being written and everything is answered
    while (!queue_.empty() && group.size() < options_.max_batch) {
      if (!group.empty() && GroupBatch::must_lead_batch(queue_.front().command)) break;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    write_group_holding_state(group, lock);
    group.clear();
  }
}

rocksdb::Status CommandService::write_in_key_order(const rocksdb::WriteOptions& options, rocksdb::WriteBatch& batch) {
  auto sorted = eventstore::sorted_batch(database_, batch);
  return database_.db().Write(options, sorted ? &*sorted : &batch);
}

void CommandService::write_group(std::vector<Pending>& group) {
  const auto started = thread_cpu_ns();
  GroupBatch batch(database_, state_);
  std::vector<Outcome> outcomes;
  outcomes.reserve(group.size());
  for (auto& pending : group) outcomes.push_back(batch.add(pending.command, pending.context));
  const auto decided = thread_cpu_ns();
  decide_cpu_ns_.fetch_add(decided - started, std::memory_order_relaxed);

  if (!batch.empty()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    std::error_code space_error;
    const auto space = std::filesystem::space(database_.dir(), space_error);
    auto status = !space_error && space.available < options_.min_free_disk_bytes
                      ? rocksdb::Status::NoSpace("fewer than " + std::to_string(options_.min_free_disk_bytes >> 20) +
                                                 " MiB free on the ledger's disk; free space")
                      : write_in_key_order(sync, *batch.finish());
    if (status.ok()) {
      state_ = batch.state();
      batches_.fetch_add(1, std::memory_order_relaxed);
      search_.apply(batch.changes());
      auto probes = batch.take_purge_probes();
      if (!probes.empty() && options_.crash_at == CrashPoint::kAfterPurgeBatch) crash_now(options_.crash_at);
      for (auto& [purge_seq, purge_probes] : probes) erasure_->purge_committed(purge_seq, std::move(purge_probes));
      if (commit_listener_) commit_listener_(state_.head.next_seq);
    } else {
      // Nothing of this group is durable: no accepted outcome may be acknowledged.
      // A retry answered from this same group's pending writes is not durable either.
      const auto first_unwritten = state_.head.next_seq;
      for (auto& outcome : outcomes) {
        const auto* a = std::get_if<Accepted>(&outcome);
        const bool in_this_group =
            a && (!a->replayed || std::any_of(a->seqs.begin(), a->seqs.end(),
                                              [&](std::uint64_t seq) { return seq >= first_unwritten; }));
        if (in_this_group) {
          outcome = Failure{FailureCode::kInternal, "the ledger could not write to disk (" + status.ToString() +
                                                        "); nothing was changed, retry with the same request key"};
        }
      }
    }
  }
  commands_.fetch_add(group.size(), std::memory_order_relaxed);
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(outcomes[i]));
  write_cpu_ns_.fetch_add(thread_cpu_ns() - decided, std::memory_order_relaxed);
}

std::optional<domain::Customer> CommandService::customer(domain::CustomerNumber number) const {
  return projections::customer_by_number(eventstore::DatabaseReader(database_), number);
}

projections::CustomerPage CommandService::list(projections::CustomerList list, domain::CustomerNumber after,
                                               std::uint32_t limit, const std::string& search) const {
  eventstore::DatabaseReader reader(database_);
  if (search.empty()) return projections::list_customers(reader, list, after, limit);
  return projections::search_customers(reader, search_, list, after, limit, search, options_.search_load_wait);
}

std::vector<projections::HistoryEntry> CommandService::history(domain::CustomerNumber number) const {
  return projections::customer_history(eventstore::DatabaseReader(database_), number);
}

std::optional<std::string> CommandService::wait_for_erasure(std::uint64_t purge_seq, std::chrono::milliseconds timeout) {
  return erasure_->wait_for_report(purge_seq, timeout);
}

std::optional<std::string> CommandService::erasure_report(std::uint64_t purge_seq) const {
  return eventstore::erasure_report(eventstore::DatabaseReader(database_), purge_seq);
}

WriterStats CommandService::stats() const {
  return {batches_.load(std::memory_order_relaxed), commands_.load(std::memory_order_relaxed),
          decide_cpu_ns_.load(std::memory_order_relaxed), write_cpu_ns_.load(std::memory_order_relaxed)};
}

}  // namespace ledger::server
