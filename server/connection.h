// Connection: one client socket's life. Reads frames, hands each request to the RequestHandler,
// writes responses in the order they complete (each carries its request id), and streams the log
// to a subscriber. Everything runs on the socket's strand.
//
// A request is handed over as followed by others while more of the client's bytes are buffered
// or readable: pipelined commands then queue for the writer and share its group commits; only a
// command with nothing behind it may be written alone on the strand's thread.
//
// Backpressure: it stops reading while `max_in_flight` requests await the writer or while
// `max_outbox_bytes` of responses wait for the client to read them. Deadlines: hello, a frame
// in progress, idleness. Bad bytes: an error frame, then the connection closes.
//
// Writing: one write at a time, of at most kMaxWriteBatchBytes of frames (one frame at least).
// What a write has taken goes out as it is; what is still queued can yet be changed.
//
// Subscription: a LogSubscription (server/log_subscription.h) queues the log's entries into the
// outbox while it has room, and re-reads the queued ones a purge redacted. Only frames already
// handed to a write go out as they were.
//
// Closing: once closing, the reader drops whatever the client still sends while the writer
// sends the last answers; then the reader ends the connection with close_lingering() below.
// Only close_now() closes at once: for a client that stops reading its last answers, a broken
// connection, and abort().
//
// Thread-safety: stop(), abort() and the commit wake-up may be called from any thread; the rest
// runs on the strand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/client_stream.h"
#include "server/commit_feed.h"
#include "server/frame_parser.h"
#include "server/log_subscription.h"
#include "server/request_handler.h"

namespace ledger::server {

class ConnectionManager;

struct ConnectionLimits {
  FrameLimits frame;
  std::size_t max_in_flight = 128;
  std::size_t max_outbox_bytes = 4 << 20;
  std::chrono::milliseconds hello_timeout{5'000};
  std::chrono::milliseconds frame_timeout{10'000};
  std::chrono::milliseconds idle_timeout{300'000};
  // A closing connection whose client does not read its last responses is closed after this.
  std::chrono::milliseconds linger{5'000};
  // After the last answer is written, the server reads and drops what the client still sends,
  // until the client ends the connection, for at most this long and this many bytes (a flooding
  // client cannot hold it longer). Closing a socket with unread bytes makes the kernel reset
  // the connection, and the reset can destroy the last answers before the client reads them.
  std::chrono::milliseconds drain_time{2'000};
  std::size_t max_drain_bytes = 1 << 20;
  // A live subscriber this many entries behind the log is cut off.
  std::uint64_t max_subscriber_lag = 100'000;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Stream = ClientStream;

  // The most one write hands to the socket (a larger frame goes alone): what a purge can no
  // longer turn into stubs, besides what the kernel already holds.
  static constexpr std::size_t kMaxWriteBatchBytes = 64 << 10;

  // The socket's executor must be a strand. The referenced objects must outlive the connection.
  Connection(Stream stream, ConnectionManager& manager, const RequestHandler& handler, CommitFeed& feed,
             const ConnectionLimits& limits);

  // Starts reading; the connection removes itself from the manager when it is done.
  void start();
  // Stops reading, answers what is in flight, then closes.
  void stop();
  // Closes now.
  void abort();

 private:
  using Clock = std::chrono::steady_clock;

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> drain_until_answered(bool client_ended);
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> watchdog();
  void handle_frame(Frame frame);
  // Whether bytes follow the frame just parsed: in the read buffer, or held by the kernel for the
  // socket. With TLS, bytes the stream has already read but not yet decrypted are not seen.
  bool more_readable();
  // Queues `frame`; `entry_seq`: the log entry it carries, 0 for any other response.
  void send(Frame frame, std::uint64_t entry_seq = 0);
  void fail(protocol::ErrorCode code, const std::string& message);
  void close_after_flush();
  void close_now();
  void update_deadline();
  void pump_subscription();
  void finished();

  Stream stream_;
  const bool tls_;
  ConnectionManager& manager_;
  const RequestHandler& handler_;
  CommitFeed& feed_;
  const ConnectionLimits& limits_;
  std::string peer_;

  FrameParser parser_;
  Session session_;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
  std::size_t buffer_pos_ = 0;
  std::size_t buffer_len_ = 0;

  std::size_t in_flight_ = 0;
  SubscriberQueue outbox_;  // not yet handed to a write

  boost::asio::steady_timer read_gate_;     // wakes the reader when backpressure eases
  boost::asio::steady_timer write_signal_;  // wakes the writer when the outbox fills
  boost::asio::steady_timer watchdog_timer_;
  Clock::time_point started_;
  Clock::time_point frame_started_{};
  Clock::time_point last_activity_;
  Clock::time_point deadline_;
  std::string deadline_reason_;

  bool tls_ready_ = false;    // the TLS handshake is done
  bool handshaking_ = false;  // the TLS handshake runs: nothing else may use the stream
  bool closing_ = false;      // no more requests are read
  bool writer_done_ = false;  // the last answer is written: the reader ends the connection
  bool closed_ = false;       // the socket is closed
  std::size_t drained_ = 0;   // bytes read and dropped since closing
  int running_ = 0;           // coroutines still running

  std::unique_ptr<LogSubscription> subscription_;
};

// The lingering close, for a connection whose last answer is written: ends the sending side
// (when `tls`, which says the TLS handshake is done, the close_notify first, then the TCP end of
// stream), then reads and drops what the client still sends until the client ends the
// connection, `limits.drain_time` passes or `limits.max_drain_bytes` (less the `drained` already)
// are read, and closes the socket. So the client reads every answer, then the end, instead of a
// reset. Runs on the stream's strand; nothing else may read or write the stream meanwhile.
boost::asio::awaitable<void> close_lingering(std::shared_ptr<Connection::Stream> stream, bool tls,
                                             ConnectionLimits limits, std::size_t drained = 0);

}  // namespace ledger::server
