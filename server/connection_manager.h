// ConnectionManager: which connections are open, so that the server can enforce its connection
// limit and stop them all on shutdown. A connection stays here through its lingering close
// (close_lingering, at most ConnectionLimits::drain_time): it still holds a socket, which is what
// the limit bounds. Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>

namespace ledger::server {

class Connection;

class ConnectionManager {
 public:
  void add(std::shared_ptr<Connection> connection);
  // Called by a connection once its socket is closed and its work is done.
  void remove(const std::shared_ptr<Connection>& connection);
  // Asks every connection to stop reading, answer what is in flight, and close.
  void stop_all();
  // Closes every connection at once (after the shutdown grace period).
  void abort_all();
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mutex_
};

}  // namespace ledger::server
