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
// Refused TLS clients handshaking at once; more are closed without an answer, so that a flood
// beyond the connection limit cannot make the server do unbounded handshakes.
constexpr int kMaxTlsRefusals = 64;

// Completes the TLS handshake, writes `frame`, and closes, all within `deadline`: a TLS client
// can read nothing sent before its handshake. Runs on the socket's strand.
asio::awaitable<void> refuse_after_handshake(std::shared_ptr<Connection::Stream> stream, std::shared_ptr<Frame> frame,
                                             std::chrono::milliseconds deadline) {
  asio::steady_timer timer(stream->get_executor(), deadline);
  timer.async_wait([stream](boost::system::error_code ec) {
    if (ec) return;
    boost::system::error_code ignored;
    stream->lowest_layer().close(ignored);  // ends whichever step below is waiting
  });
  auto [handshake_ec] = co_await stream->async_handshake(asio::ssl::stream_base::server, kAwait);
  if (!handshake_ec) {
    co_await asio::async_write(*stream, asio::buffer(frame->begin(), frame->size() * sizeof(capnp::word)), kAwait);
  }
  timer.cancel();
  // No TLS close exchange: it would wait for the client, which need not answer; the client
  // reads the frame, then the end of the connection.
  boost::system::error_code ignored;
  stream->lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream->lowest_layer().close(ignored);
}

}  // namespace

Server::Server(asio::io_context& io, const tcp::endpoint& endpoint, ConnectionManager& manager,
               const RequestHandler& handler, CommitFeed& feed, asio::ssl::context* tls, ServerOptions options)
    : io_(io),
      acceptor_(io, endpoint),
      accept_retry_(io),
      manager_(manager),
      handler_(handler),
      feed_(feed),
      tls_(tls),
      plain_(asio::ssl::context::tls_server),
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
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
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
      auto connection = std::make_shared<Connection>(Connection::Stream(std::move(socket), tls_ ? *tls_ : plain_),
                                                     tls_ != nullptr, manager_, handler_, feed_, options_.limits);
      manager_.add(connection);
      connection->start();
    }
    accept();
  });
}

void Server::refuse(tcp::socket socket) {
  spdlog::warn("connection refused: the limit of {} connections is reached", options_.max_connections);
  auto frame = std::make_shared<Frame>(RequestHandler::error_frame(
      0, protocol::ErrorCode::BUSY, "the server has too many connections; retry shortly"));
  if (tls_) {
    if (tls_refusals_->fetch_add(1) >= kMaxTlsRefusals) {
      --*tls_refusals_;
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    auto executor = socket.get_executor();
    auto stream = std::make_shared<Connection::Stream>(std::move(socket), *tls_);
    asio::co_spawn(executor, refuse_after_handshake(stream, frame, options_.limits.hello_timeout),
                   [refusals = tls_refusals_](std::exception_ptr) { --*refusals; });
    return;
  }
  auto shared = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*shared, asio::buffer(frame->begin(), frame->size() * sizeof(capnp::word)),
                    [shared, frame](boost::system::error_code, std::size_t) {
                      boost::system::error_code ignored;
                      shared->shutdown(tcp::socket::shutdown_both, ignored);
                      shared->close(ignored);
                    });
}

}  // namespace ledger::server
