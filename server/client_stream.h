// ClientStream: one accepted client's socket and, when the server speaks TLS, the TLS layer over
// it. A plain connection carries no TLS state: an ssl::stream holds two 17 KiB record buffers,
// an OpenSSL SSL object and a BIO pair with two 17 KiB buffers of its own, about 70 KiB that a
// plain connection would never use.
//
// Not thread-safe: used on the socket's strand, like the socket.
#pragma once

#include <utility>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace ledger::server {

class ClientStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Tls = boost::asio::ssl::stream<Socket>;

  // A plain TCP client.
  explicit ClientStream(Socket socket) : layers_(std::in_place_type<Socket>, std::move(socket)) {}
  // A TLS client; `context` must outlive the stream.
  ClientStream(Socket socket, boost::asio::ssl::context& context)
      : layers_(std::in_place_type<Tls>, std::move(socket), context) {}

  bool is_tls() const { return std::holds_alternative<Tls>(layers_); }
  // The TCP socket, under the TLS layer if there is one.
  Socket& socket() {
    if (auto* plain = std::get_if<Socket>(&layers_)) return *plain;
    return std::get<Tls>(layers_).next_layer();
  }
  // The TLS layer; only when is_tls().
  Tls& tls() { return std::get<Tls>(layers_); }
  Socket::executor_type get_executor() { return socket().get_executor(); }

 private:
  std::variant<Socket, Tls> layers_;
};

}  // namespace ledger::server
