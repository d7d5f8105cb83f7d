// CommitFeed: tells subscribers that the log grew, and when a purge redacted entries they may
// hold queued. The command service's commit listener calls publish() on the thread that wrote,
// after every durable write and before any command of it is answered; each subscriber's wake
// function only posts to its own strand, so the writer never waits on a subscriber or a socket.
//
// Thread-safe (the lock is written into the types: eventstore/thread_annotations.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "eventstore/thread_annotations.h"

namespace ledger::server {

class CommitFeed {
 public:
  // `purge_seq` is the seq of the purge the write held, 0 when it held none: every entry that
  // purge redacted reads as a stub from then on.
  using Wake = std::function<void(std::uint64_t next_seq, std::uint64_t purge_seq)>;

  // Registers `wake`, which must not block; returns the id to remove it with.
  std::uint64_t add(Wake wake) EXCLUDES(mutex_);
  void remove(std::uint64_t id) EXCLUDES(mutex_);
  // Every entry below `next_seq` is readable now; `purge_seq` as for Wake.
  void publish(std::uint64_t next_seq, std::uint64_t purge_seq = 0) EXCLUDES(mutex_);
  // Registered wake functions: the live subscriptions.
  std::size_t size() EXCLUDES(mutex_);

 private:
  eventstore::Mutex mutex_;
  std::uint64_t next_id_ GUARDED_BY(mutex_) = 1;
  std::map<std::uint64_t, Wake> wakes_ GUARDED_BY(mutex_);
};

}  // namespace ledger::server
