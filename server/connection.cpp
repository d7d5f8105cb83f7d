#include "server/connection.h"

#include <algorithm>
#include <array>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include "server/connection_manager.h"

namespace ledger::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

}  // namespace

Connection::Connection(Stream stream, ConnectionManager& manager, const RequestHandler& handler, CommitFeed& feed,
                       const ConnectionLimits& limits)
    : stream_(std::move(stream)),
      tls_(stream_.is_tls()),
      manager_(manager),
      handler_(handler),
      feed_(feed),
      limits_(limits),
      parser_(limits.frame),
      read_gate_(stream_.get_executor(), Clock::time_point::max()),
      write_signal_(stream_.get_executor(), Clock::time_point::max()),
      watchdog_timer_(stream_.get_executor()),
      started_(Clock::now()),
      last_activity_(started_) {
  boost::system::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown peer" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void Connection::start() {
  update_deadline();
  running_ = 3;
  auto self = shared_from_this();
  auto done = [self](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("connection {}: {}", self->peer_, e.what());
      }
      self->close_now();
    }
    self->finished();
  };
  asio::co_spawn(stream_.get_executor(), read_loop(), done);
  asio::co_spawn(stream_.get_executor(), write_loop(), done);
  asio::co_spawn(stream_.get_executor(), watchdog(), done);
}

asio::awaitable<void> close_lingering(std::shared_ptr<Connection::Stream> stream, bool tls, ConnectionLimits limits,
                                     std::size_t drained) {
  // One deadline for all of it: closing the socket ends whichever step is waiting.
  asio::steady_timer deadline(stream->get_executor(), limits.drain_time);
  deadline.async_wait([stream](boost::system::error_code ec) {
    if (ec) return;
    boost::system::error_code ignored;
    stream->socket().close(ignored);
  });
  if (tls) {
    // Sends close_notify, then waits for the client's, dropping what it sends meanwhile. It
    // fails when the client just closes or sends garbage; the TCP end goes out all the same.
    co_await stream->tls().async_shutdown(kAwait);
  }
  auto& socket = stream->socket();
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  std::array<std::uint8_t, 4096> sink;
  while (drained < limits.max_drain_bytes) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;  // the client's end, a reset, or the deadline
    drained += n;
  }
  deadline.cancel();
  socket.close(ignored);
}

void Connection::stop() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->close_after_flush();
    if (self->subscription_) {
      self->send(RequestHandler::error_frame(self->subscription_->request_id(), protocol::ErrorCode::SHUTTING_DOWN,
                                             "the server is shutting down; subscribe again from the next seq"));
    }
  });
}

void Connection::abort() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void Connection::finished() {
  if (--running_ > 0) return;
  subscription_.reset();
  manager_.remove(shared_from_this());
}

asio::awaitable<void> Connection::read_loop() {
  if (tls_) {
    handshaking_ = true;
    auto [ec] = co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, kAwait);
    handshaking_ = false;
    write_signal_.cancel();  // the writer may wait for the handshake
    if (ec && !closing_) spdlog::info("connection {}: TLS handshake failed: {}", peer_, ec.message());
    tls_ready_ = !ec;
    if (ec) close_after_flush();
  }
  bool client_ended = false;  // the client closed or reset its side: nothing left to read
  while (!closing_) {
    // Backpressure: no new request while too many await the writer or the client.
    while (!closing_ && (in_flight_ >= limits_.max_in_flight || outbox_.bytes >= limits_.max_outbox_bytes)) {
      co_await read_gate_.async_wait(kAwait);
    }
    if (closing_) break;
    if (buffer_pos_ == buffer_len_) {
      auto buffer = asio::buffer(buffer_);
      auto [ec, n] = tls_ ? co_await stream_.tls().async_read_some(buffer, kAwait)
                          : co_await stream_.socket().async_read_some(buffer, kAwait);
      if (ec) {
        if (parser_.in_progress() && !closing_) spdlog::info("connection {}: closed in the middle of a frame", peer_);
        client_ended = ec != asio::error::operation_aborted;
        break;
      }
      if (closing_) {  // closed while this read waited: the bytes go unread, like those after them
        drained_ += n;
        break;
      }
      buffer_pos_ = 0;
      buffer_len_ = n;
      last_activity_ = Clock::now();
    }
    const bool was_in_progress = parser_.in_progress();
    std::size_t consumed = 0;
    auto result = parser_.parse(buffer_.data() + buffer_pos_, buffer_len_ - buffer_pos_, consumed);
    buffer_pos_ += consumed;
    if (result == FrameParser::Result::kBad) {
      spdlog::warn("connection {}: bad frame: {}", peer_, parser_.error());
      fail(parser_.problem() == FrameParser::Problem::kTooLarge ? protocol::ErrorCode::TOO_LARGE
                                                                 : protocol::ErrorCode::BAD_REQUEST,
           parser_.error());
      break;
    }
    if (result == FrameParser::Result::kGood) {
      handle_frame(parser_.take_frame());
    } else if (!was_in_progress && parser_.in_progress()) {
      frame_started_ = Clock::now();
    }
    update_deadline();
  }
  close_after_flush();
  co_await drain_until_answered(client_ended);
  if (closed_) co_return;
  // Aliasing the connection keeps it alive as long as close_lingering's deadline handler.
  co_await close_lingering(std::shared_ptr<Stream>(shared_from_this(), &stream_), tls_ready_, limits_, drained_);
  close_now();
}

// Until the writer has sent the last answer the client may be blocked writing, and would read
// its answers only once it can write again; so the reader drops what it sends meanwhile.
asio::awaitable<void> Connection::drain_until_answered(bool client_ended) {
  bool can_read = !client_ended;
  while (!writer_done_ && !closed_) {
    if (!can_read || drained_ >= limits_.max_drain_bytes) {
      co_await read_gate_.async_wait(kAwait);  // the writer wakes it once it is done
      continue;
    }
    auto buffer = asio::buffer(buffer_);
    auto [ec, n] = tls_ready_ ? co_await stream_.tls().async_read_some(buffer, kAwait)
                              : co_await stream_.socket().async_read_some(buffer, kAwait);
    drained_ += n;
    // operation_aborted: the writer is done and woke this read. Any other error: the client's
    // end, a reset or a TLS error; close_lingering drops whatever TLS could not read.
    if (ec && ec != asio::error::operation_aborted) can_read = false;
  }
}

void Connection::handle_frame(Frame frame) {
  capnp::FlatArrayMessageReader reader(frame, frame_reader_options(frame.size()));
  protocol::Request::Reader request;
  try {
    request = reader.getRoot<protocol::Request>();
    // Walks every pointer once, so that limits are enforced here and not halfway through.
    (void)request.totalSize();
  } catch (const kj::Exception& e) {
    spdlog::warn("connection {}: unreadable request: {}", peer_, e.getDescription().cStr());
    fail(protocol::ErrorCode::BAD_REQUEST, "the frame is not a valid Request message");
    return;
  }
  const bool was_authenticated = session_.principal.has_value();
  auto self = shared_from_this();
  // Inline when the command was written on this strand's own thread (a lone command), posted
  // from the publisher thread otherwise.
  RequestHandler::Dispatch dispatch = [self](std::function<void()> task) {
    asio::dispatch(self->stream_.get_executor(), std::move(task));
  };
  RequestHandler::Send reply = [self](Frame response) {
    --self->in_flight_;
    self->send(std::move(response));
    self->read_gate_.cancel();
  };
  const auto arrival = more_readable() ? RequestHandler::Arrival::kFollowed : RequestHandler::Arrival::kAlone;
  // Counted before handling: a lone command's answer is sent from within handle().
  ++in_flight_;
  auto handled = handler_.handle(request, session_, dispatch, reply, arrival);
  if (!was_authenticated && session_.principal) {
    spdlog::info("connection {}: {} authenticated as {}", peer_, session_.principal->name,
                 role_name(session_.principal->role));
  }
  if (handled.response.size() == 0) return;
  --in_flight_;
  send(std::move(handled.response));
  if (handled.close) {
    spdlog::info("connection {}: closing after a refused request", peer_);
    close_after_flush();
    return;
  }
  if (handled.subscribe_from && !subscription_) {
    std::weak_ptr<Connection> weak = self;
    subscription_ = std::make_unique<LogSubscription>(handler_, feed_, request.getId(), *handled.subscribe_from,
                                                      limits_.max_subscriber_lag, stream_.get_executor(), [weak] {
                                                        if (auto c = weak.lock()) c->pump_subscription();
                                                      });
    pump_subscription();
  }
}

bool Connection::more_readable() {
  if (buffer_pos_ < buffer_len_) return true;
  boost::system::error_code ec;
  const auto waiting = stream_.socket().available(ec);
  return !ec && waiting > 0;
}

void Connection::pump_subscription() {
  if (!subscription_ || closed_) return;
  const auto had = outbox_.bytes;
  auto failure = subscription_->pump(outbox_, limits_.max_outbox_bytes, !closing_);
  if (outbox_.bytes < had) read_gate_.cancel();  // stubs are smaller: the outbox may have room again
  if (outbox_.bytes != had) write_signal_.cancel();
  if (failure) {
    if (failure->code == protocol::ErrorCode::TOO_SLOW) {
      spdlog::warn("connection {}: subscriber cut off: {}", peer_, failure->message);
    } else {
      spdlog::error("connection {}: subscription failed: {}", peer_, failure->message);
    }
    fail(failure->code, failure->message);
  }
}

void Connection::send(Frame frame, std::uint64_t entry_seq) {
  if (closed_ || writer_done_) return;
  outbox_.push(std::move(frame), entry_seq);
  write_signal_.cancel();
}

void Connection::fail(protocol::ErrorCode code, const std::string& message) {
  send(RequestHandler::error_frame(0, code, message));
  close_after_flush();
}

void Connection::close_after_flush() {
  if (closing_) return;
  closing_ = true;
  // A pending read goes on: what it brings is dropped (drain_until_answered).
  read_gate_.cancel();
  write_signal_.cancel();
  update_deadline();
}

void Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  read_gate_.cancel();
  write_signal_.cancel();
  watchdog_timer_.cancel();
}

asio::awaitable<void> Connection::write_loop() {
  std::vector<Frame> batch;
  std::vector<asio::const_buffer> buffers;
  while (!closed_) {
    // Nothing is written during the TLS handshake: an SSL stream takes one operation at a time.
    if (outbox_.frames.empty() || handshaking_) {
      if (outbox_.frames.empty() && closing_ && in_flight_ == 0) break;
      co_await write_signal_.async_wait(kAwait);
      continue;
    }
    batch.clear();
    buffers.clear();
    std::size_t bytes = 0;
    // Bounded: a write cannot be changed once begun, and a slow client's write waits long.
    while (!outbox_.frames.empty() && batch.size() < 64) {
      const auto size = outbox_.frames.front().frame.size() * sizeof(capnp::word);
      if (!batch.empty() && bytes + size > kMaxWriteBatchBytes) break;
      auto frame = std::move(outbox_.frames.front().frame);
      outbox_.frames.pop_front();
      bytes += size;
      buffers.emplace_back(frame.begin(), frame.size() * sizeof(capnp::word));
      batch.push_back(std::move(frame));
    }
    auto [ec, n] = tls_ ? co_await asio::async_write(stream_.tls(), buffers, kAwait)
                        : co_await asio::async_write(stream_.socket(), buffers, kAwait);
    outbox_.bytes -= bytes;
    batch.clear();  // written: an idle connection holds no response
    if (ec) {
      close_now();  // the client is gone: no answer is left to deliver
      break;
    }
    last_activity_ = Clock::now();
    read_gate_.cancel();
    if (subscription_ && outbox_.bytes < limits_.max_outbox_bytes / 2) pump_subscription();
    update_deadline();
  }
  if (closed_) co_return;
  // The reader ends the connection, since close_lingering reads: wake it wherever it waits.
  writer_done_ = true;
  update_deadline();
  read_gate_.cancel();
  boost::system::error_code ignored;
  stream_.socket().cancel(ignored);
}

void Connection::update_deadline() {
  auto now = Clock::now();
  if (writer_done_) {
    deadline_ = Clock::time_point::max();  // close_lingering keeps its own
  } else if (closing_) {
    deadline_ = now + limits_.linger;
    deadline_reason_ = "the client did not read its last responses";
  } else if (!session_.principal) {
    deadline_ = started_ + limits_.hello_timeout;
    deadline_reason_ = "no hello within the hello deadline";
  } else if (parser_.in_progress()) {
    deadline_ = frame_started_ + limits_.frame_timeout;
    deadline_reason_ = "a frame was not completed within the frame deadline";
  } else if (in_flight_ > 0 || subscription_) {
    deadline_ = Clock::time_point::max();
  } else {
    deadline_ = last_activity_ + limits_.idle_timeout;
    deadline_reason_ = "the connection was idle too long";
  }
  watchdog_timer_.expires_at(deadline_);
}

asio::awaitable<void> Connection::watchdog() {
  while (!closed_) {
    co_await watchdog_timer_.async_wait(kAwait);
    if (closed_) break;
    if (Clock::now() < deadline_) continue;
    if (closing_ || handshaking_) {
      // In the handshake no frame can reach the client: saying why is left to the log.
      spdlog::info("connection {}: closed{}: {}", peer_, handshaking_ ? " in the TLS handshake" : "", deadline_reason_);
      close_now();
      break;
    }
    spdlog::info("connection {}: timed out: {}", peer_, deadline_reason_);
    fail(protocol::ErrorCode::TIMEOUT, deadline_reason_);
  }
}

}  // namespace ledger::server
