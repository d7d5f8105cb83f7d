// HttpServer: the console's listener and its connections, on the same network threads as the
// TCP protocol (IoPool). Accepts each client onto one of them, on a strand of its own, and
// serves it one request at a time (keep-alive, no pipelining of answers): read with Beast's
// parser under the limits below, let HttpApi answer, write the answer. Bad bytes, an oversized
// header or body, a deadline: a JSON error where the client can still read one, then the close;
// other clients are not affected.
//
// With a TLS context every connection speaks HTTPS (main() then allows any address; without,
// loopback only). A GET of /api/v1/feed that asks for a WebSocket upgrade is checked by
// HttpApi::authorize_feed and then handed over to a FeedSession on the same strand.
//
// Thread-safety: construct, then run the pool (IoPool::run); stop() and size() may be called
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server/feed_session.h"
#include "server/http_api.h"
#include "server/io_pool.h"

namespace ledger::server {

struct HttpOptions {
  std::size_t max_connections = 256;
  std::size_t max_body_bytes = 1 << 20;
  std::uint32_t max_header_bytes = 16 << 10;
  // A request, once its first byte arrived, is read whole within this.
  std::chrono::milliseconds request_timeout{10'000};
  // A kept-alive connection waits this long for its next request.
  std::chrono::milliseconds keep_alive_timeout{30'000};
  // An answer is written within this (a client that does not read is closed).
  std::chrono::milliseconds write_timeout{10'000};
};

class HttpServer {
 public:
  // Binds and listens on `endpoint`; throws boost::system::system_error when it cannot. "*api",
  // what `feed` points to and "*tls" (nullptr: plain HTTP) must outlive the server.
  HttpServer(IoPool& pool, const boost::asio::ip::tcp::endpoint& endpoint, HttpApi& api,
             HttpOptions options, FeedContext feed = {}, boost::asio::ssl::context* tls = nullptr);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  // Stops accepting; idle connections close now, a connection answering a request closes after
  // writing the answer.
  void stop();
  // Open connections.
  std::size_t size() const;

 private:
  struct Client;
  void accept();
  boost::asio::awaitable<void> serve(std::shared_ptr<Client> client);
  template <class Stream>
  boost::asio::awaitable<void> serve_requests(std::shared_ptr<Client> client, Stream& stream);
  template <class Stream>
  boost::asio::awaitable<bool> serve_feed(std::shared_ptr<Client> client, Stream& stream, HttpRequest& request);
  boost::asio::awaitable<void> refuse(std::shared_ptr<Client> client);

  IoPool& pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HttpApi& api_;
  const HttpOptions options_;
  const FeedContext feed_;
  boost::asio::ssl::context* tls_;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::weak_ptr<Client>> clients_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;                               // guarded by mutex_
  std::atomic<int> refusals_{0};
};

}  // namespace ledger::server
