#include "server/connection_manager.h"

#include <algorithm>
#include <vector>

#include "server/connection.h"

namespace ledger::server {

ConnectionManager::ConnectionManager(std::function<void()> release_memory)
    : release_memory_(std::move(release_memory)) {}

void ConnectionManager::add(std::shared_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  connections_.insert(std::move(connection));
  most_since_release_ = std::max(most_since_release_, connections_.size());
}

void ConnectionManager::remove(const std::shared_ptr<Connection>& connection) {
  bool release = false;
  {
    std::lock_guard lock(mutex_);
    connections_.erase(connection);
    const auto open = connections_.size();
    if (open <= most_since_release_ / 2 && most_since_release_ - open >= kReleaseAfterClosed) {
      most_since_release_ = open;
      release = true;
    }
  }
  if (release && release_memory_) release_memory_();
}

void ConnectionManager::stop_all() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->stop();
}

void ConnectionManager::abort_all() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->abort();
}

std::size_t ConnectionManager::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace ledger::server
