#include "server/http_server.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace ledger::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Clients beyond the connection limit answered 503 at once; more are closed without an answer.
constexpr int kMaxRefusals = 64;
// How long and how much a closing connection reads and drops (docs/protocol.md, the same close).
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr std::size_t kMaxDrainBytes = 1 << 20;
}  // namespace

struct HttpServer::Client {
  explicit Client(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = true;  // waiting for a request: stop() may close it at once
  bool stopping = false;
  std::uint64_t id = 0;
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpApi& api, HttpOptions options)
    : io_(io), acceptor_(io, endpoint), api_(api), options_(options) {}

void HttpServer::start() { accept(); }

std::size_t HttpServer::size() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  api_.set_stopping();
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::lock_guard lock(mutex_);
  for (auto& [id, weak] : clients_) {
    if (auto client = weak.lock()) {
      asio::post(client->stream.get_executor(), [client] {
        client->stopping = true;
        if (client->idle) client->stream.cancel();
      });
    }
  }
}

void HttpServer::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      spdlog::warn("http: accept failed: {}", ec.message());
      // Out of descriptors, say: try again with the next connection that ends.
      auto retry = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
      retry->async_wait([this, retry](boost::system::error_code) {
        if (!stopped_) accept();
      });
      return;
    }
    if (stopped_) return;
    auto client = std::make_shared<Client>(std::move(socket));
    bool refused = false;
    {
      std::lock_guard lock(mutex_);
      refused = clients_.size() >= options_.max_connections;
      if (!refused) {
        client->id = next_id_++;
        clients_[client->id] = client;
      }
    }
    auto executor = client->stream.get_executor();
    if (refused) {
      if (refusals_.fetch_add(1) >= kMaxRefusals) {
        --refusals_;
        client->stream.close();
      } else {
        asio::co_spawn(executor, refuse(client), [this](std::exception_ptr) { --refusals_; });
      }
    } else {
      asio::co_spawn(executor, serve(client), [this, client](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            spdlog::error("http: connection failed: {}", e.what());
          }
        }
        client->stream.close();
        std::lock_guard lock(mutex_);
        clients_.erase(client->id);
      });
    }
    accept();
  });
}

asio::awaitable<void> HttpServer::refuse(std::shared_ptr<Client> client) {
  spdlog::warn("http: connection refused: the limit of {} connections is reached", options_.max_connections);
  auto response = HttpApi::error(503, "busy", "the server has too many connections; retry shortly");
  response.keep_alive(false);
  client->stream.expires_after(options_.write_timeout);
  co_await http::async_write(client->stream, response, kAwait);
  boost::system::error_code ignored;
  client->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  client->stream.close();
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<Client> client) {
  beast::flat_buffer buffer;
  for (;;) {
    if (client->stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    // Idle until the first byte: the keep-alive deadline; then the whole request's.
    client->idle = true;
    client->stream.expires_after(buffer.size() > 0 ? options_.request_timeout : options_.keep_alive_timeout);
    auto [header_ec, header_n] = co_await http::async_read_header(client->stream, buffer, parser, kAwait);
    client->idle = false;
    if (!header_ec && !parser.is_done()) {
      client->stream.expires_after(options_.request_timeout);
      auto [body_ec, body_n] = co_await http::async_read(client->stream, buffer, parser, kAwait);
      header_ec = body_ec;
    }
    if (header_ec) {
      std::optional<HttpResponse> refusal;
      if (header_ec == http::error::body_limit) {
        refusal = HttpApi::error(413, "tooLarge",
                                 "the body is larger than " + std::to_string(options_.max_body_bytes) + " bytes");
      } else if (header_ec == http::error::header_limit) {
        refusal = HttpApi::error(431, "tooLarge",
                                 "the header is larger than " + std::to_string(options_.max_header_bytes) + " bytes");
      } else if (header_ec.category() == http::make_error_code(http::error::end_of_stream).category() && header_ec != http::error::end_of_stream &&
                 header_ec != http::error::partial_message) {
        refusal = HttpApi::error(400, "badRequest", "the bytes are not an HTTP/1.1 request");
      }
      if (refusal) {
        refusal->keep_alive(false);
        client->stream.expires_after(options_.write_timeout);
        co_await http::async_write(client->stream, *refusal, kAwait);
      }
      break;  // the client's end, a deadline, a reset, or bad bytes
    }
    auto request = parser.release();
    auto response = co_await api_.answer(request);
    if (client->stopping) response.keep_alive(false);
    client->stream.expires_after(options_.write_timeout);
    auto [write_ec, written] = co_await http::async_write(client->stream, response, kAwait);
    if (write_ec || !response.keep_alive()) break;
  }
  // A lingering close: end the sending side, then drop what the client still sends until it
  // closes (bounded), so that unread bytes (the rest of an oversized body) do not make the
  // kernel reset the connection and destroy the answer before the client reads it.
  boost::system::error_code ignored;
  client->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  client->stream.expires_after(kDrainTime);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (drained < kMaxDrainBytes) {
    auto [ec, n] = co_await client->stream.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
}

}  // namespace ledger::server
