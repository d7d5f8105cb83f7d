#include "server/erasure_worker.h"

#include <algorithm>
#include <future>
#include <optional>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "projections/erasure_probes.h"

namespace ledger::server {

ErasureWorker::ErasureWorker(eventstore::Database& database, ErasureWorkerOptions options)
    : database_(database), options_(std::move(options)) {
  work_ = !eventstore::pending_erasures(eventstore::DatabaseReader(database_)).empty();
  thread_ = std::thread([this] { run(); });
}

ErasureWorker::~ErasureWorker() { stop(); }

void ErasureWorker::stop() {
  {
    eventstore::MutexLock lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  end_waits();
}

void ErasureWorker::purge_committed(std::uint64_t purge_seq, std::vector<std::string> probes) {
  {
    eventstore::MutexLock lock(mutex_);
    probes_[purge_seq] = std::move(probes);
    work_ = true;
  }
  wake_.notify_one();
}

bool ErasureWorker::settled(const eventstore::Reader& reader, std::uint64_t purge_seq) const {
  if (passed_.contains(purge_seq)) return true;
  const auto pending = eventstore::pending_erasures(reader);
  return std::find(pending.begin(), pending.end(), purge_seq) == pending.end();
}

eventstore::ErasureReport ErasureWorker::report_of(std::uint64_t purge_seq) const {
  try {
    return eventstore::erasure_report(eventstore::DatabaseReader(database_), purge_seq).value_or(eventstore::ErasureReport{});
  } catch (const std::exception& error) {
    spdlog::error("reading the erasure report of purge {}: {}", purge_seq, error.what());
    return {};
  }
}

void ErasureWorker::await_report(std::uint64_t purge_seq, std::chrono::milliseconds timeout,
                                 std::function<void(eventstore::ErasureReport)> done) {
  bool now = false, pending = false;
  {
    eventstore::MutexLock lock(mutex_);
    // Checked under the lock the worker takes to record a pass's end: no end is missed. A
    // report already stored is answered even after the waits have ended.
    if (settled(eventstore::DatabaseReader(database_), purge_seq)) {
      now = true;
    } else if (waits_ended_) {
      pending = true;
    } else {
      waits_.push_back({purge_seq, Clock::now() + timeout, std::move(done)});
    }
  }
  if (pending) done(eventstore::ErasureReport{});
  else if (now) done(report_of(purge_seq));
  else wake_.notify_all();  // the worker sleeps until the earliest deadline
}

std::optional<eventstore::ErasureReport> ErasureWorker::wait_for_report(std::uint64_t purge_seq,
                                                                        std::chrono::milliseconds timeout) {
  std::promise<eventstore::ErasureReport> answered;
  auto answer = answered.get_future();
  await_report(purge_seq, timeout, [&answered](eventstore::ErasureReport report) { answered.set_value(std::move(report)); });
  auto report = answer.get();
  if (report.state == eventstore::ErasureState::kPending) return std::nullopt;
  return report;
}

void ErasureWorker::end_waits() {
  std::vector<Wait> ended;
  {
    eventstore::MutexLock lock(mutex_);
    waits_ended_ = true;
    ended.swap(waits_);
  }
  for (auto& wait : ended) wait.done(eventstore::ErasureReport{});
}

void ErasureWorker::answer_waits() {
  std::vector<Wait> settled_waits, timed_out;
  {
    eventstore::MutexLock lock(mutex_);
    if (waits_.empty()) return;
    const eventstore::DatabaseReader reader(database_);
    const auto now = Clock::now();
    std::vector<Wait> still;
    for (auto& wait : waits_) {
      if (settled(reader, wait.purge_seq)) settled_waits.push_back(std::move(wait));
      else if (now >= wait.deadline) timed_out.push_back(std::move(wait));
      else still.push_back(std::move(wait));
    }
    waits_.swap(still);
  }
  for (auto& wait : settled_waits) wait.done(report_of(wait.purge_seq));
  for (auto& wait : timed_out) wait.done(eventstore::ErasureReport{});
}

void ErasureWorker::run() {
  for (;;) {
    {
      eventstore::MutexLock lock(mutex_);
      while (!stop_ && !work_) {
        if (waits_.empty()) {
          wake_.wait(lock);
        } else {
          auto earliest = waits_.front().deadline;
          for (const auto& wait : waits_) earliest = std::min(earliest, wait.deadline);
          wake_.wait_until(lock, earliest);
        }
        lock.unlock();
        answer_waits();
        lock.lock();
      }
      if (stop_) return;
      work_ = false;
    }
    try {
      run_pass();
    } catch (const std::exception& error) {
      spdlog::error("ERASURE PASS FAILED: {}; the erasure stays pending and runs again at the next purge or start-up",
                    error.what());
    }
    answer_waits();
  }
}

ErasureWorker::Probes ErasureWorker::collect_probes(const std::vector<std::uint64_t>& pending,
                                                    const std::vector<domain::CustomersPurged>& receipts) {
  Probes probes;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const auto seq = pending[i];
    std::vector<std::string> known;
    std::optional<eventstore::ProbeCoverage> coverage;
    bool have = false;
    {
      eventstore::MutexLock lock(mutex_);
      if (auto found = probes_.find(seq); found != probes_.end()) {
        known = found->second;
        have = true;
      }
      if (auto found = coverage_.find(seq); found != coverage_.end()) coverage = found->second;
    }
    if (!have) {
      // Lost with the process that purged: take them from old versions before compaction
      // removes those, and keep them for a retry.
      auto recovered = projections::recover_probes(database_, seq, receipts[i]);
      known.assign(recovered.probes.begin(), recovered.probes.end());
      coverage = recovered.coverage;
      spdlog::info("erasure of purge {}: {} probes recovered after a restart, from {} of its {} redacted entries", seq,
                   known.size(), coverage->entries_read, coverage->purged_entries);
      eventstore::MutexLock lock(mutex_);
      probes_[seq] = known;
      coverage_[seq] = *coverage;
    }
    if (!coverage) {
      // Handed over by the purge itself, which read every entry it redacted.
      const auto entries = projections::redacted_entries(receipts[i]);
      coverage = eventstore::ProbeCoverage{entries, entries};
    }
    probes.coverage.purged_entries += coverage->purged_entries;
    probes.coverage.entries_read += coverage->entries_read;
    probes.values.insert(probes.values.end(), std::make_move_iterator(known.begin()), std::make_move_iterator(known.end()));
  }
  return probes;
}

void ErasureWorker::run_pass() {
  const auto pending = eventstore::pending_erasures(eventstore::DatabaseReader(database_));
  if (pending.empty()) {
    database_.release_compactions();
    return;
  }
  // The receipts in the log name the purged customers, also after a restart.
  std::vector<domain::CustomersPurged> receipts;
  Probes probes;
  try {
    const eventstore::DatabaseReader reader(database_);
    for (auto seq : pending) receipts.push_back(projections::purge_receipt(reader, seq).value_or(domain::CustomersPurged{}));
    probes = collect_probes(pending, receipts);
  } catch (...) {
    database_.release_compactions();
    throw;
  }
  // The old versions have given their probes; the pass's own compaction follows.
  database_.release_compactions();

  eventstore::ErasurePassOptions pass;
  {
    // First the keys: once they are gone, every copy of the purged customers' sealed values is
    // unreadable, wherever it lies; the pass then removes the ciphertext from the live files.
    // Alone, not beside the pass: on two cores the pass's flush, probe filter and compaction
    // slowed the destruction from about 0.25 to 0.5 s and gained the pass less than that.
    std::vector<std::uint64_t> purged;
    for (const auto& receipt : receipts) purged.insert(purged.end(), receipt.ids.begin(), receipt.ids.end());
    pass.keys = database_.key_store().shred(purged);
    spdlog::info("erasure of purge(s) {}: keys of {} customers destroyed in {:.0f} ms ({} still stored, {} probed), {}",
                 fmt::join(pending, ","), pass.keys->customers, pass.keys->seconds * 1000, pass.keys->keys_deleted,
                 pass.keys->keys_probed, pass.keys->verified() ? "no key byte left in the key store" : "KEY BYTES LEFT");
    if (options_.on_keys_destroyed) options_.on_keys_destroyed();
  }
  pass.quiescence_timeout = options_.quiescence_timeout;
  pass.on_stage = options_.on_stage;
  pass.stop = &stop_;
  for (const auto& receipt : receipts) {
    pass.purged_customers.insert(pass.purged_customers.end(), receipt.ids.begin(), receipt.ids.end());
    pass.purged_numbers.insert(pass.purged_numbers.end(), receipt.numbers.begin(), receipt.numbers.end());
  }
  // Which log entries the purges redacted, as their records keep them: the compaction rewrites
  // only the log files that hold one (records written before they kept them: the whole log).
  {
    const eventstore::DatabaseReader reader(database_);
    std::vector<std::uint64_t> seqs;
    bool known = true;
    for (auto seq : pending) {
      auto redacted = eventstore::pending_erasure_entries(reader, seq);
      if (!redacted) known = false;
      else seqs.insert(seqs.end(), redacted->begin(), redacted->end());
    }
    if (known) {
      std::sort(seqs.begin(), seqs.end());
      pass.redacted_seqs = std::move(seqs);
    }
  }
  const auto report = eventstore::run_erasure_pass(database_, pending, std::move(probes.values), probes.coverage, pass);
  if (options_.on_report) options_.on_report(report);
  eventstore::MutexLock lock(mutex_);
  if (report.state != eventstore::ErasureState::kStopped) passed_.insert(pending.begin(), pending.end());
  if (report.verified()) {
    for (auto seq : pending) {
      probes_.erase(seq);
      coverage_.erase(seq);
    }
  }
}

}  // namespace ledger::server
