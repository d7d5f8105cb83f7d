// ConnectionManager: which connections are open, so that the server can enforce its connection
// limit and stop them all on shutdown. A connection stays here through its lingering close
// (close_lingering, at most ConnectionLimits::drain_time): it still holds a socket, which is what
// the limit bounds.
//
// After a burst the memory its connections used is free but still the process's: the allocator
// keeps it for the next. So whenever the open connections fall to half the most there were since
// the last time (and by at least kReleaseAfterClosed), the manager calls `release_memory`, which
// main() wires to the allocator's trim.
//
// Thread-safe; `release_memory` is called without the lock, on the thread of the connection that
// closed.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

namespace ledger::server {

class Connection;

class ConnectionManager {
 public:
  // Fewer closed connections than this since the most are not worth a release.
  static constexpr std::size_t kReleaseAfterClosed = 16;

  // `release_memory` (may be empty) gives free memory back to the system.
  explicit ConnectionManager(std::function<void()> release_memory = {});

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
  std::size_t most_since_release_ = 0;                  // guarded by mutex_
  const std::function<void()> release_memory_;
};

}  // namespace ledger::server
