// CommitFeed: tells subscribers that the log grew, and when a purge redacted entries they may
// hold queued. The command service's commit listener calls publish() on the thread that wrote,
// after every durable write and before any command of it is answered; each subscriber's wake
// function only posts to its own strand, so the writer never waits on a subscriber or a socket.
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
  // `purge_seq` is the seq of the purge the write held, 0 when it held none: every entry that
  // purge redacted reads as a stub from then on.
  using Wake = std::function<void(std::uint64_t next_seq, std::uint64_t purge_seq)>;

  // Registers `wake`, which must not block; returns the id to remove it with.
  std::uint64_t add(Wake wake);
  void remove(std::uint64_t id);
  // Every entry below `next_seq` is readable now; `purge_seq` as for Wake.
  void publish(std::uint64_t next_seq, std::uint64_t purge_seq = 0);
  // Registered wake functions: the live subscriptions.
  std::size_t size();

 private:
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;              // guarded by mutex_
  std::map<std::uint64_t, Wake> wakes_;    // guarded by mutex_
};

}  // namespace ledger::server
