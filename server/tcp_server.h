// Server: the acceptor and the connection limit. Accepts each client onto one of the pool's
// network threads (IoPool::next), on a strand of its own, wraps it in a Connection (TLS when a
// context is given) and registers it with the ConnectionManager.
// A client beyond the limit gets a "busy" error frame and a lingering close (close_lingering);
// with TLS the frame follows the handshake (bounded by the hello deadline), since a TLS client
// can read nothing before it. Refused clients are not connections: they do not count against
// the limit, and at most 64 are answered at once.
//
// Thread-safety: construct, then run the pool (IoPool::run); stop() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/commit_feed.h"
#include "server/connection.h"
#include "server/connection_manager.h"
#include "server/io_pool.h"
#include "server/request_handler.h"

namespace ledger::server {

struct ServerOptions {
  std::size_t max_connections = 1024;
  ConnectionLimits limits;
};

class Server {
 public:
  // Binds and listens on `endpoint`; throws boost::system::system_error when it cannot.
  // Listens on the pool's main context. `tls` (optional) must outlive the server; the other
  // references too.
  Server(IoPool& pool, const boost::asio::ip::tcp::endpoint& endpoint, ConnectionManager& manager,
         const RequestHandler& handler, CommitFeed& feed, boost::asio::ssl::context* tls, ServerOptions options);

  // The address actually bound (port 0 resolved).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  // Stops accepting and asks every connection to finish what it has in flight.
  void stop();

 private:
  void accept();
  void refuse(boost::asio::ip::tcp::socket socket);
  // The accepted socket, with a TLS layer when the server speaks TLS.
  Connection::Stream client_stream(boost::asio::ip::tcp::socket socket);

  IoPool& pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // After a failed accept (out of file descriptors), the next accept waits on this.
  boost::asio::steady_timer accept_retry_;
  ConnectionManager& manager_;
  const RequestHandler& handler_;
  CommitFeed& feed_;
  boost::asio::ssl::context* tls_;
  const ServerOptions options_;
  std::atomic<bool> stopped_{false};
  // Refused clients still being answered or closed; shared with their coroutines, which may
  // end last.
  std::shared_ptr<std::atomic<int>> refusals_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace ledger::server
