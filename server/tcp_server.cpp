#include "server/tcp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace ledger::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Refused clients being answered at once; more are closed without an answer, so that a flood
// beyond the connection limit cannot make the server do unbounded handshakes or hold unbounded
// sockets while their lingering closes last.
constexpr int kMaxRefusals = 64;

// Writes `frame` and ends the connection with close_lingering, so that the client reads the
// frame even when it has already sent its hello. With TLS the handshake comes first, since a
// TLS client can read nothing sent before it; handshake and write take at most the hello
// deadline. Runs on the socket's strand.
asio::awaitable<void> refuse_connection(std::shared_ptr<Connection::Stream> stream, bool tls,
                                        std::shared_ptr<Frame> frame, ConnectionLimits limits) {
  asio::steady_timer timer(stream->get_executor(), limits.hello_timeout);
  timer.async_wait([stream](boost::system::error_code ec) {
    if (ec) return;
    boost::system::error_code ignored;
    stream->socket().close(ignored);  // ends whichever step below is waiting
  });
  const auto bytes = asio::buffer(frame->begin(), frame->size() * sizeof(capnp::word));
  bool tls_ready = false;
  if (!tls) {
    co_await asio::async_write(stream->socket(), bytes, kAwait);
  } else if (auto [ec] = co_await stream->tls().async_handshake(asio::ssl::stream_base::server, kAwait); !ec) {
    tls_ready = true;
    co_await asio::async_write(stream->tls(), bytes, kAwait);
  }
  timer.cancel();
  co_await close_lingering(stream, tls_ready, limits);
}

}  // namespace

Server::Server(IoPool& pool, const tcp::endpoint& endpoint, ConnectionManager& manager,
               const RequestHandler& handler, CommitFeed& feed, asio::ssl::context* tls, ServerOptions options)
    : pool_(pool),
      acceptor_(pool.main(), endpoint),
      accept_retry_(pool.main()),
      manager_(manager),
      handler_(handler),
      feed_(feed),
      tls_(tls),
      options_(std::move(options)) {}

void Server::start() { accept(); }

void Server::stop() {
  if (stopped_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  manager_.stop_all();
}

void Server::accept() {
  acceptor_.async_accept(asio::make_strand(pool_.next()), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      // Out of file descriptors, say: the client stays in the backlog, so accepting again at
      // once fails again at once, a busy loop that floods the log. Wait for connections to end.
      constexpr auto kRetry = std::chrono::milliseconds(100);
      spdlog::warn("accept failed: {}; accepting again in {} ms", ec.message(), kRetry.count());
      accept_retry_.expires_after(kRetry);
      accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && !stopped_) accept();
      });
      return;
    }
    if (stopped_) return;
    if (manager_.size() >= options_.max_connections) {
      refuse(std::move(socket));
    } else {
      boost::system::error_code no_delay_ec;
      socket.set_option(tcp::no_delay(true), no_delay_ec);
      auto connection = std::make_shared<Connection>(client_stream(std::move(socket)), manager_, handler_, feed_,
                                                     options_.limits);
      manager_.add(connection);
      connection->start();
    }
    accept();
  });
}

Connection::Stream Server::client_stream(tcp::socket socket) {
  return tls_ ? Connection::Stream(std::move(socket), *tls_) : Connection::Stream(std::move(socket));
}

void Server::refuse(tcp::socket socket) {
  spdlog::warn("connection refused: the limit of {} connections is reached", options_.max_connections);
  if (refusals_->fetch_add(1) >= kMaxRefusals) {
    --*refusals_;
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto frame = std::make_shared<Frame>(RequestHandler::error_frame(
      0, protocol::ErrorCode::BUSY, "the server has too many connections; retry shortly"));
  auto executor = socket.get_executor();
  auto stream = std::make_shared<Connection::Stream>(client_stream(std::move(socket)));
  asio::co_spawn(executor, refuse_connection(stream, tls_ != nullptr, frame, options_.limits),
                 [refusals = refusals_](std::exception_ptr) { --*refusals; });
}

}  // namespace ledger::server
