#include "server/http_server.h"

#include <array>
#include <type_traits>

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
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

// GCC 12 takes the frame of an Asio coroutine, allocated and freed by awaitable_frame_base's own
// operator new and delete, for a mismatched pair (a false positive, also in the top CMakeLists).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

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
  Client(tcp::socket socket, asio::ssl::context* context) {
    boost::system::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    peer = ec ? "unknown peer" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    if (context) {
      tls.emplace(std::move(socket), *context);
    } else {
      plain.emplace(std::move(socket));
    }
  }
  // One of the two: a plain connection carries no TLS state (server/client_stream.h says why).
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
  std::string peer;
  bool idle = true;  // waiting for a request: stop() may close it at once
  bool stopping = false;
  std::function<void()> stop_feed;  // set while the connection serves the feed
  std::uint64_t id = 0;
};

HttpServer::HttpServer(IoPool& pool, const tcp::endpoint& endpoint, HttpApi& api, HttpOptions options,
                       FeedContext feed, asio::ssl::context* tls)
    : pool_(pool), acceptor_(pool.main(), endpoint), api_(api), options_(options), feed_(std::move(feed)), tls_(tls) {}

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
      asio::post(client->lowest().get_executor(), [client] {
        client->stopping = true;
        if (client->stop_feed) {
          client->stop_feed();
        } else if (client->idle) {
          client->lowest().cancel();
        }
      });
    }
  }
}

void HttpServer::accept() {
  acceptor_.async_accept(asio::make_strand(pool_.next()), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      spdlog::warn("http: accept failed: {}", ec.message());
      // Out of descriptors, say: try again with the next connection that ends.
      auto retry = std::make_shared<asio::steady_timer>(pool_.main(), std::chrono::milliseconds(100));
      retry->async_wait([this, retry](boost::system::error_code) {
        if (!stopped_) accept();
      });
      return;
    }
    if (stopped_) return;
    auto client = std::make_shared<Client>(std::move(socket), tls_);
    bool refused = false;
    {
      std::lock_guard lock(mutex_);
      refused = clients_.size() >= options_.max_connections;
      if (!refused) {
        client->id = next_id_++;
        clients_[client->id] = client;
      }
    }
    auto executor = client->lowest().get_executor();
    if (refused) {
      if (refusals_.fetch_add(1) >= kMaxRefusals) {
        --refusals_;
        client->lowest().close();
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
        client->lowest().close();
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
  client->lowest().expires_after(options_.write_timeout);
  if (client->tls) {
    auto [ec] = co_await client->tls->async_handshake(asio::ssl::stream_base::server, kAwait);
    if (!ec) co_await http::async_write(*client->tls, response, kAwait);
  } else {
    co_await http::async_write(*client->plain, response, kAwait);
  }
  boost::system::error_code ignored;
  client->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  client->lowest().close();
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<Client> client) {
  if (client->plain) {
    co_await serve_requests(client, *client->plain);
    co_return;
  }
  client->lowest().expires_after(options_.request_timeout);
  auto [ec] = co_await client->tls->async_handshake(asio::ssl::stream_base::server, kAwait);
  if (ec) {
    spdlog::info("http {}: TLS handshake failed: {}", client->peer, ec.message());
    co_return;
  }
  co_await serve_requests(client, *client->tls);
}

template <class Stream>
asio::awaitable<bool> HttpServer::serve_feed(std::shared_ptr<Client> client, Stream& stream, HttpRequest& request) {
  auto authorized = api_.authorize_feed(request);
  if (std::holds_alternative<Principal>(authorized) && (client->stopping || !feed_.handler || !feed_.feed)) {
    authorized = HttpApi::error(503, "shuttingDown", "the server is stopping", request.version());
  }
  if (auto* refusal = std::get_if<HttpResponse>(&authorized)) {
    refusal->keep_alive(false);
    client->lowest().expires_after(options_.write_timeout);
    co_await http::async_write(stream, *refusal, kAwait);
    co_return false;
  }
  auto session =
      std::make_shared<FeedSession<Stream>>(stream, feed_, std::move(std::get<Principal>(authorized)), client->peer);
  client->stop_feed = [weak = std::weak_ptr(session)] {
    if (auto feed = weak.lock()) feed->stop();
  };
  co_await session->run(request);
  client->stop_feed = nullptr;
  co_return true;
}

template <class Stream>
asio::awaitable<void> HttpServer::serve_requests(std::shared_ptr<Client> client, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    if (client->stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    // Idle until the first byte: the keep-alive deadline; then the whole request's, from its
    // first byte (a client that sends half a header and stalls is closed at the request deadline).
    client->idle = true;
    if (buffer.size() == 0) {
      client->lowest().expires_after(options_.keep_alive_timeout);
      auto [first_ec, first_n] = co_await stream.async_read_some(buffer.prepare(4096), kAwait);
      if (first_ec) break;  // the client's end, the keep-alive deadline, a reset, or stop()
      buffer.commit(first_n);
    }
    client->idle = false;
    client->lowest().expires_after(options_.request_timeout);
    auto [header_ec, header_n] = co_await http::async_read_header(stream, buffer, parser, kAwait);
    if (!header_ec && !parser.is_done()) {
      client->lowest().expires_after(options_.request_timeout);
      auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, kAwait);
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
      } else if (header_ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                 header_ec != http::error::end_of_stream && header_ec != http::error::partial_message) {
        refusal = HttpApi::error(400, "badRequest", "the bytes are not an HTTP/1.1 request");
      }
      if (refusal) {
        refusal->keep_alive(false);
        client->lowest().expires_after(options_.write_timeout);
        co_await http::async_write(stream, *refusal, kAwait);
      }
      break;  // the client's end, a deadline, a reset, or bad bytes
    }
    auto request = parser.release();
    if (request.target() == kFeedPath && beast::websocket::is_upgrade(request)) {
      if (co_await serve_feed(client, stream, request)) co_return;  // the feed ended the connection
      break;
    }
    HttpResponse response;
    // Not a conditional expression: GCC 12 miscompiles a co_await in one.
    if (request.target() == kFeedPath) {
      response = HttpApi::error(426, "badRequest", "the feed is a WebSocket: open it with an upgrade",
                                request.version());
      response.keep_alive(request.keep_alive());
    } else {
      response = co_await api_.answer(request);
    }
    if (client->stopping) response.keep_alive(false);
    client->lowest().expires_after(options_.write_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kAwait);
    if (write_ec || !response.keep_alive()) break;
  }
  // A lingering close: end the sending side (after TLS's close_notify), then drop what the
  // client still sends until it closes (bounded), so that unread bytes (the rest of an
  // oversized body) do not make the kernel reset the connection and destroy the answer before
  // the client reads it.
  client->lowest().expires_after(kDrainTime);
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    co_await stream.async_shutdown(kAwait);
    client->lowest().expires_after(kDrainTime);
  }
  boost::system::error_code ignored;
  client->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (drained < kMaxDrainBytes) {
    auto [ec, n] = co_await client->lowest().async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
}

}  // namespace ledger::server
