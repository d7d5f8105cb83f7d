// CommitFeed: tells subscribers that the log grew. The command service's commit listener calls
// publish() on the writer thread after every durable write; each subscriber's wake function
// only posts to its own strand, so the writer never waits on a subscriber or a socket.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace ledger::server {

class CommitFeed {
 public:
  using Wake = std::function<void(std::uint64_t next_seq)>;

  // Registers `wake`, which must not block; returns the id to remove it with.
  std::uint64_t add(Wake wake);
  void remove(std::uint64_t id);
  // Every entry below `next_seq` is readable now.
  void publish(std::uint64_t next_seq);

 private:
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;              // guarded by mutex_
  std::map<std::uint64_t, Wake> wakes_;    // guarded by mutex_
};

}  // namespace ledger::server
