// LogSubscription: one subscriber's place in the log, shared by the TCP protocol's Connection and
// the console's WebSocket feed (FeedSession), so that both follow the same rules: entries are
// read in slices while the subscriber's queue has room and queued as frames tagged with their
// seq; a live subscriber more than `max_lag` entries behind is cut off (tooSlow); when a purge
// commits, every entry still queued below the purge's seq is read again, so the entries it
// redacted go out as stubs, as a fresh read gives them.
//
// The commit feed's wake-up runs on the writer thread: it stores the new head and the last
// purge in atomics and posts at most one `wake` at a time to the owner's strand.
//
// Thread-safety: construct, use and destroy on the owner's strand; only the feed's wake-up runs
// elsewhere. Destruction removes the wake-up from the feed.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "server/commit_feed.h"
#include "server/request_handler.h"

namespace ledger::server {

// A response queued for a subscriber; `entry_seq` is the log entry it carries, 0 for any other.
struct QueuedFrame {
  Frame frame;
  std::uint64_t entry_seq = 0;
};

// The subscriber's queue: frames not yet handed to a write, and their bytes.
struct SubscriberQueue {
  std::deque<QueuedFrame> frames;
  std::size_t bytes = 0;
  void push(Frame frame, std::uint64_t entry_seq = 0);
};

class LogSubscription {
 public:
  // Registers with `feed` for the subscription answered with request id `request_id`, from
  // `from_seq`. `wake` is posted to `executor` (the owner's strand) after commits; it should
  // call pump(). "*handler" and "*feed" must outlive the subscription.
  LogSubscription(const RequestHandler& handler, CommitFeed& feed, std::uint64_t request_id, std::uint64_t from_seq,
                  std::uint64_t max_lag, boost::asio::any_io_executor executor, std::function<void()> wake);
  ~LogSubscription();
  LogSubscription(const LogSubscription&) = delete;
  LogSubscription& operator=(const LogSubscription&) = delete;

  std::uint64_t request_id() const { return request_id_; }

  // A reason to end the subscription: the error to send the client, then close.
  struct Failure {
    protocol::ErrorCode code;
    std::string message;
  };

  // Re-reads queued entries a purge redacted (when one committed since the last call), then
  // queues entries into `queue` while it holds less than `max_queue_bytes`. Returns the failure
  // that ends the subscription (too far behind, or a read failed), or nothing. `live` false
  // (the owner is closing): only the re-read of queued entries is done.
  std::optional<Failure> pump(SubscriberQueue& queue, std::size_t max_queue_bytes, bool live = true);

 private:
  std::optional<Failure> stub_purged_entries(SubscriberQueue& queue);

  const RequestHandler& handler_;
  CommitFeed& feed_;
  const std::uint64_t request_id_;
  const std::uint64_t max_lag_;
  std::uint64_t feed_id_ = 0;
  std::uint64_t cursor_ = 0;  // next seq to queue
  std::uint64_t head_ = 0;    // every seq below is readable
  bool caught_up_ = false;
  std::uint64_t stubbed_ = 0;  // the purge whose stubs the queue holds
  std::shared_ptr<std::atomic<std::uint64_t>> published_;  // written by the writer thread
  std::shared_ptr<std::atomic<bool>> wake_pending_;
  std::shared_ptr<std::atomic<std::uint64_t>> purged_;  // the last purge's seq, by the writer thread
};

}  // namespace ledger::server
