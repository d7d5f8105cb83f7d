#include "server/commit_feed.h"

namespace ledger::server {

std::uint64_t CommitFeed::add(Wake wake) {
  eventstore::MutexLock lock(mutex_);
  const auto id = next_id_++;
  wakes_.emplace(id, std::move(wake));
  return id;
}

void CommitFeed::remove(std::uint64_t id) {
  eventstore::MutexLock lock(mutex_);
  wakes_.erase(id);
}

void CommitFeed::publish(std::uint64_t next_seq, std::uint64_t purge_seq) {
  eventstore::MutexLock lock(mutex_);
  for (auto& [id, wake] : wakes_) wake(next_seq, purge_seq);
}

std::size_t CommitFeed::size() {
  eventstore::MutexLock lock(mutex_);
  return wakes_.size();
}

}  // namespace ledger::server
