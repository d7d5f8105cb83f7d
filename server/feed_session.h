// FeedSession: the console's live feed, one WebSocket client's life on GET /api/v1/feed. The
// HTTP server has checked Host, Origin and the principal before handing over the upgrade
// request (HttpApi::authorize_feed); the session accepts it, reads ONE text message, a protocol
// Request as JSON ({"id":"1","subscribe":{"fromSeq":"0"}}), hands it to the same RequestHandler
// as a TCP subscribe (so the same role checks), and streams the answers as text messages, each a
// Response as JSON: the `subscribed`, then one `entry` per log entry, then the live ones.
//
// The subscription is the TCP protocol's (LogSubscription): entries are queued while the send
// queue holds less than `max_queue_bytes`, a subscriber more than `max_lag` entries behind is
// cut off with tooSlow, queued entries a purge redacted are re-read as stubs. One write at a
// time. A refusal, a bad or oversized message, a cut-off or the server's stop: an error Response,
// then the WebSocket close; a client that does not read it is dropped after `linger`.
//
// Thread-safety: everything runs on the stream's strand; stop() too (post it there).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "server/api_metrics.h"
#include "server/commit_feed.h"
#include "server/http_api.h"
#include "server/log_subscription.h"
#include "server/request_handler.h"

namespace ledger::server {

// The request path of the feed.
inline constexpr std::string_view kFeedPath = "/api/v1/feed";

struct FeedOptions {
  // The largest message a client may send (its one subscribe); beyond: tooLarge, then close.
  std::size_t max_message_bytes = 64 << 10;
  // The WebSocket handshake, and the first message after it, must arrive within this.
  std::chrono::milliseconds first_message_timeout{10'000};
  // Responses queued for the client, in their Cap'n Proto size; entries wait beyond this.
  std::size_t max_queue_bytes = 4 << 20;
  // A live subscriber this many entries behind the log is cut off (as --max-subscriber-lag).
  std::uint64_t max_lag = 100'000;
  // A closing session whose client does not read its last messages is dropped after this.
  std::chrono::milliseconds linger{5'000};
};

// What a feed needs besides its socket; the references must outlive the HTTP server.
struct FeedContext {
  const RequestHandler* handler = nullptr;
  CommitFeed* feed = nullptr;
  ApiMetrics* metrics = nullptr;
  FeedOptions options;
  FrameLimits frame_limits;  // the decoded subscribe is checked as a TCP frame is
};

// `Stream`: beast::tcp_stream, or beast::ssl_stream<beast::tcp_stream> with its handshake done.
template <class Stream>
class FeedSession : public std::enable_shared_from_this<FeedSession<Stream>> {
 public:
  // "*stream" must outlive the session; nothing else may use it until run() returns.
  FeedSession(Stream& stream, const FeedContext& context, Principal principal, std::string peer);
  ~FeedSession();

  // Accepts the upgrade `request` and serves the feed until it ends; the connection is over
  // then. On the stream's strand.
  boost::asio::awaitable<void> run(const HttpRequest& request);
  // Ends the feed: shuttingDown to a subscriber, then the close. On the stream's strand.
  void stop();

 private:
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  void handle_first(std::string_view text);
  void send(Frame frame);
  void fail(protocol::ErrorCode code, const std::string& message, std::uint64_t id = 0);
  void close_after_flush();
  void close_now();
  void pump_subscription();

  boost::beast::websocket::stream<Stream&> ws_;
  const FeedContext& context_;
  Session session_;
  std::string peer_;
  SubscriberQueue queue_;
  std::unique_ptr<LogSubscription> subscription_;
  boost::asio::steady_timer write_signal_;  // wakes the writer: a frame queued, or closing
  boost::asio::steady_timer deadline_;      // the first message's, then the linger's
  boost::asio::steady_timer done_signal_;   // wakes run() when the writer is done
  bool got_request_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool writer_done_ = false;
};

extern template class FeedSession<boost::beast::tcp_stream>;
extern template class FeedSession<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

}  // namespace ledger::server
