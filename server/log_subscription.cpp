#include "server/log_subscription.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "eventstore/event_log.h"
#include "eventstore/reader.h"

namespace ledger::server {
namespace asio = boost::asio;

namespace {
// Entries a subscriber reads per slice, so that no iterator pins files for long.
constexpr std::uint64_t kSubscriptionSlice = 256;
}  // namespace

void SubscriberQueue::push(Frame frame, std::uint64_t entry_seq) {
  bytes += frame.size() * sizeof(capnp::word);
  frames.push_back({std::move(frame), entry_seq});
}

LogSubscription::LogSubscription(const RequestHandler& handler, CommitFeed& feed, std::uint64_t request_id,
                                 std::uint64_t from_seq, std::uint64_t max_lag, asio::any_io_executor executor,
                                 std::function<void()> wake)
    : handler_(handler),
      feed_(feed),
      request_id_(request_id),
      max_lag_(max_lag),
      cursor_(from_seq),
      published_(std::make_shared<std::atomic<std::uint64_t>>(0)),
      wake_pending_(std::make_shared<std::atomic<bool>>(false)),
      purged_(std::make_shared<std::atomic<std::uint64_t>>(0)) {
  auto published = published_;
  auto purged = purged_;
  auto pending = wake_pending_;
  // On the writer thread: remember the head and the last purge, and post at most one wake-up
  // at a time (a wake-up already posted sees both).
  feed_id_ = feed_.add([published, purged, pending, executor, wake = std::move(wake)](std::uint64_t next_seq,
                                                                                        std::uint64_t purge_seq) {
    published->store(next_seq);
    if (purge_seq != 0) purged->store(purge_seq);
    if (pending->exchange(true)) return;
    asio::post(executor, wake);
  });
  eventstore::DatabaseReader db(handler_.database());
  head_ = eventstore::load_head(db).next_seq;
  // Entries read from here on show every purge published before: none needs a second read.
  stubbed_ = purged_->load();
}

LogSubscription::~LogSubscription() { feed_.remove(feed_id_); }

std::optional<LogSubscription::Failure> LogSubscription::pump(SubscriberQueue& queue, std::size_t max_queue_bytes,
                                                              bool live) {
  wake_pending_->store(false);
  // Even while closing: the entries queued before a tooSlow or shuttingDown still go out.
  if (purged_->load() > stubbed_) {
    if (auto failure = stub_purged_entries(queue)) return failure;
  }
  if (!live) return std::nullopt;
  head_ = std::max(head_, published_->load());
  if (caught_up_ && head_ > cursor_ && head_ - cursor_ > max_lag_) {
    return Failure{protocol::ErrorCode::TOO_SLOW, "the subscriber fell too far behind (" +
                                                      std::to_string(head_ - cursor_) +
                                                      " entries); subscribe again from seq " + std::to_string(cursor_)};
  }
  eventstore::DatabaseReader reader(handler_.database());
  while (cursor_ < head_ && queue.bytes < max_queue_bytes) {
    const auto end = std::min(head_, cursor_ + kSubscriptionSlice);
    try {
      eventstore::scan_entries(reader, cursor_, [&](const eventstore::Envelope& envelope) {
        if (envelope.seq >= end) return false;
        queue.push(RequestHandler::entry_frame(request_id_, envelope), envelope.seq);
        cursor_ = envelope.seq + 1;
        return true;
      });
    } catch (const eventstore::StorageError& e) {
      spdlog::error("subscription read failed: {}", e.what());
      return Failure{protocol::ErrorCode::INTERNAL, "the ledger could not read its log; see the server log"};
    }
    if (cursor_ < end) break;  // the log has a gap below the head: wait for the next commit
  }
  if (cursor_ >= head_) caught_up_ = true;
  return std::nullopt;
}

std::optional<LogSubscription::Failure> LogSubscription::stub_purged_entries(SubscriberQueue& queue) {
  const auto purge_seq = purged_->load();
  stubbed_ = purge_seq;
  auto& frames = queue.frames;
  // Entry frames are queued in seq order, other responses between them.
  auto first = std::find_if(frames.begin(), frames.end(), [&](const QueuedFrame& o) { return o.entry_seq != 0; });
  if (first == frames.end() || first->entry_seq >= purge_seq) return std::nullopt;
  auto next = first;
  try {
    eventstore::DatabaseReader reader(handler_.database());
    eventstore::scan_entries(reader, first->entry_seq, [&](const eventstore::Envelope& envelope) {
      while (next != frames.end() && (next->entry_seq == 0 || next->entry_seq < envelope.seq)) ++next;
      if (next == frames.end() || next->entry_seq >= purge_seq) return false;
      if (next->entry_seq == envelope.seq && envelope.redacted()) {
        auto stub = RequestHandler::entry_frame(request_id_, envelope);
        queue.bytes -= next->frame.size() * sizeof(capnp::word);
        queue.bytes += stub.size() * sizeof(capnp::word);
        next->frame = std::move(stub);
      }
      return true;
    });
  } catch (const eventstore::StorageError& e) {
    // What was not re-read may hold erased data: none of it goes out. The client subscribes again.
    spdlog::error("re-reading queued entries after a purge failed: {}", e.what());
    const auto resume = first->entry_seq;
    std::erase_if(frames, [&](const QueuedFrame& o) {
      if (o.entry_seq == 0) return false;
      queue.bytes -= o.frame.size() * sizeof(capnp::word);
      return true;
    });
    return Failure{protocol::ErrorCode::INTERNAL,
                   "the ledger could not read its log; subscribe again from seq " + std::to_string(resume)};
  }
  return std::nullopt;
}

}  // namespace ledger::server
