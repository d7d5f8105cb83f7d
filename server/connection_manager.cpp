#include "server/connection_manager.h"

#include <vector>

#include "server/connection.h"

namespace ledger::server {

void ConnectionManager::add(std::shared_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  connections_.insert(std::move(connection));
}

void ConnectionManager::remove(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
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
