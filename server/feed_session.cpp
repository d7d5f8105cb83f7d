#include "server/feed_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "server/http_json.h"

// GCC 12 takes the frame of an Asio coroutine, allocated and freed by awaitable_frame_base's own
// operator new and delete, for a mismatched pair (a false positive, also in the top CMakeLists).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace ledger::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::ErrorCode;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}  // namespace

template <class Stream>
FeedSession<Stream>::FeedSession(Stream& stream, const FeedContext& context, Principal principal, std::string peer)
    : ws_(stream),
      context_(context),
      session_{std::move(principal)},
      peer_(std::move(peer)),
      write_signal_(stream.get_executor(), asio::steady_timer::time_point::max()),
      deadline_(stream.get_executor()),
      done_signal_(stream.get_executor(), asio::steady_timer::time_point::max()) {
  if (context_.metrics) context_.metrics->feed_opened();
}

template <class Stream>
FeedSession<Stream>::~FeedSession() {
  if (context_.metrics) context_.metrics->feed_closed();
}

template <class Stream>
asio::awaitable<void> FeedSession<Stream>::run(const HttpRequest& request) {
  // Beast's own deadlines for the opening and closing handshakes; the idle feed has none (the
  // server sends when the log grows, the client only listens).
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = context_.options.first_message_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(context_.options.max_message_bytes);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(beast::http::field::server, "ledgerd"); }));
  auto [accept_ec] = co_await ws_.async_accept(request, kAwait);
  if (accept_ec) {
    spdlog::info("feed {}: the WebSocket handshake failed: {}", peer_, accept_ec.message());
    co_return;
  }
  // No subscribe in time: a timeout error, then the close.
  deadline_.expires_after(context_.options.first_message_timeout);
  deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->got_request_ || self->closing_) return;
    self->fail(ErrorCode::TIMEOUT, "no subscribe within the deadline");
  });
  auto self = this->shared_from_this();
  asio::co_spawn(ws_.get_executor(), write_loop(), [self](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("feed {}: {}", self->peer_, e.what());
      }
      self->close_now();
    }
    self->writer_done_ = true;
    self->done_signal_.cancel();
  });
  co_await read_loop();
  close_after_flush();
  while (!writer_done_) co_await done_signal_.async_wait(kAwait);
  deadline_.cancel();
  subscription_.reset();  // no more wake-ups from the writer thread
}

template <class Stream>
void FeedSession<Stream>::stop() {
  if (closing_) return;
  if (subscription_) {
    send(RequestHandler::error_frame(subscription_->request_id(), ErrorCode::SHUTTING_DOWN,
                                     "the server is shutting down; subscribe again from the next seq"));
  }
  close_after_flush();
}

template <class Stream>
asio::awaitable<void> FeedSession<Stream>::read_loop() {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await ws_.async_read(buffer, kAwait);
    if (ec) {
      if (ec == websocket::error::message_too_big && !closing_) {
        fail(ErrorCode::TOO_LARGE,
             "a message is larger than " + std::to_string(context_.options.max_message_bytes) + " bytes");
        continue;  // read on: the close handshake's answer ends this loop
      }
      break;  // the client's close, a reset, or the socket closed by close_now
    }
    if (closing_) continue;  // dropped: the feed is ending
    if (got_request_) {
      fail(ErrorCode::BAD_REQUEST, "the feed takes one subscribe; open another feed for another");
      continue;
    }
    got_request_ = true;
    if (!ws_.got_text()) {
      fail(ErrorCode::BAD_REQUEST, "the subscribe must be a text message: a Request as JSON");
      continue;
    }
    handle_first(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
  }
}

template <class Stream>
void FeedSession<Stream>::handle_first(std::string_view text) {
  auto decoded = request_from_json(text, context_.frame_limits);
  if (auto* problem = std::get_if<JsonProblem>(&decoded)) {
    fail(problem->code, problem->message);
    return;
  }
  auto json_request = std::move(std::get<std::unique_ptr<JsonRequest>>(decoded));
  const auto request = json_request->request();
  if (request.which() != protocol::Request::Which::SUBSCRIBE) {
    fail(ErrorCode::BAD_REQUEST, "the feed takes a subscribe; send other requests to POST /api/v1/requests",
         request.getId());
    return;
  }
  // A subscribe is answered at once; the functions are there for the handler's contract.
  auto executor = ws_.get_executor();
  RequestHandler::Dispatch dispatch = [executor](std::function<void()> task) {
    asio::dispatch(executor, std::move(task));
  };
  std::weak_ptr<FeedSession> weak = this->shared_from_this();
  RequestHandler::Send later = [weak](Frame frame) {
    if (auto self = weak.lock()) self->send(std::move(frame));
  };
  auto handled = context_.handler->handle(request, session_, dispatch, later);
  if (handled.response.size() > 0) send(std::move(handled.response));
  if (!handled.subscribe_from) {
    close_after_flush();  // refused (forbidden, ...): its error is the last message
    return;
  }
  subscription_ = std::make_unique<LogSubscription>(*context_.handler, *context_.feed, request.getId(),
                                                    *handled.subscribe_from, context_.options.max_lag, executor,
                                                    [weak] {
                                                      if (auto self = weak.lock()) self->pump_subscription();
                                                    });
  pump_subscription();
}

template <class Stream>
void FeedSession<Stream>::pump_subscription() {
  if (!subscription_ || closed_) return;
  const auto had = queue_.frames.size();
  auto failure = subscription_->pump(queue_, context_.options.max_queue_bytes, !closing_);
  if (queue_.frames.size() != had) write_signal_.cancel();
  if (failure) {
    if (failure->code == ErrorCode::TOO_SLOW) {
      spdlog::warn("feed {}: subscriber cut off: {}", peer_, failure->message);
      if (context_.metrics) context_.metrics->feed_cut_off();
    }
    fail(failure->code, failure->message);
  }
}

template <class Stream>
void FeedSession<Stream>::send(Frame frame) {
  if (closed_) return;
  queue_.push(std::move(frame));
  write_signal_.cancel();
}

template <class Stream>
void FeedSession<Stream>::fail(ErrorCode code, const std::string& message, std::uint64_t id) {
  if (closing_) return;
  send(RequestHandler::error_frame(id, code, message));
  close_after_flush();
}

template <class Stream>
void FeedSession<Stream>::close_after_flush() {
  if (closing_) return;
  closing_ = true;
  write_signal_.cancel();
  // A client that does not read its last messages is not waited for long.
  deadline_.expires_after(context_.options.linger);
  deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    spdlog::info("feed {}: closed: the client did not read its last messages", self->peer_);
    self->close_now();
  });
}

template <class Stream>
void FeedSession<Stream>::close_now() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
  write_signal_.cancel();
}

template <class Stream>
asio::awaitable<void> FeedSession<Stream>::write_loop() {
  ws_.text(true);
  while (!closed_) {
    if (queue_.frames.empty()) {
      if (closing_) break;
      co_await write_signal_.async_wait(kAwait);
      continue;
    }
    auto item = std::move(queue_.frames.front());
    queue_.frames.pop_front();
    const auto text = response_json(item.frame);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(text), kAwait);
    // Counted as queued until written: the subscription waits while the client does not read.
    queue_.bytes -= item.frame.size() * sizeof(capnp::word);
    if (ec) {
      close_now();  // the client is gone
      co_return;
    }
    if (subscription_ && queue_.bytes < context_.options.max_queue_bytes / 2) pump_subscription();
  }
  if (closed_ || !ws_.is_open()) co_return;
  auto [ec] = co_await ws_.async_close(websocket::close_code::normal, kAwait);
  (void)ec;  // the peer's answer or not, the connection is over
  close_now();
}

template class FeedSession<beast::tcp_stream>;
template class FeedSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace ledger::server
