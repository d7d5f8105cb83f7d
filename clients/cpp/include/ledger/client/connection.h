// ledger::client::Connection: one blocking connection to ledgerd (server/protocol.capnp) over
// TCP, optionally TLS. It sends request messages as they are built (the caller sets the ids),
// or queues several and sends them in one write, and reads responses in the order they arrive,
// checking each frame's segment table before anything is allocated for it. No hello, no
// retries: ledger::client::Client adds those.
//
// Not thread-safe: one thread uses a connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "ledger/client/frame_reader.h"
#include "ledger/client/refusal.h"
#include "ledger/protocol.capnp.h"

namespace ledger::client {

// The server cannot be reached, the connection broke, or the server sent bytes that are not a
// response. Refusals are not exceptions: they come back as a Reply whose response is an error.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The connection could not be made: the name did not resolve, the connect failed, or the TLS
// handshake did (nothing was sent).
class CannotConnect : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// Where the server is and how to reach it.
struct ConnectOptions {
  std::string server = "127.0.0.1:7400";  // HOST:PORT; [v6]:PORT for IPv6
  bool tls = false;
  std::string tls_ca;  // PEM file to verify the server with (implies nothing about `tls`); empty: no verification
};

// One received response; owns its bytes. An empty Reply (default-constructed) holds none.
class Reply {
 public:
  Reply() = default;
  // Takes a whole frame; throws ConnectionError when it is not a readable Response.
  explicit Reply(kj::Array<capnp::word> frame);
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;

  // Valid while this Reply lives. Only on a non-empty Reply.
  protocol::Response::Reader get() const { return root_; }
  bool empty() const { return reader_ == nullptr; }
  // The server's refusal, when the response is an error.
  std::optional<Refusal> refusal() const;

 private:
  kj::Array<capnp::word> frame_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  protocol::Response::Reader root_;
};

class Connection {
 public:
  // Connects (and completes the TLS handshake when options.tls); throws CannotConnect when it
  // cannot.
  explicit Connection(const ConnectOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends a request; the builder's root must be a Request (its id as the caller set it).
  // Requests queued before it go first. Throws ConnectionError.
  void send(capnp::MessageBuilder& request);
  // Frames a request and keeps it until flush() (or the next send()) writes every queued
  // request in one write: a client keeping several requests in flight sends the ones it has
  // ready together, one system call and, on the server's side, one read for all of them.
  void queue(capnp::MessageBuilder& request);
  // Writes the queued requests, if any. Throws ConnectionError.
  void flush();
  // After receive(): whether another whole response has already been read, so that the next
  // receive() returns it without waiting for the server. A pipelining client flushes its
  // queued requests once this is false.
  bool reply_buffered() const;
  // Sends raw bytes as they are (tests of bad input use this). Throws ConnectionError.
  void send_bytes(const void* data, std::size_t size);
  // Reads the next response, whatever its id. Throws ConnectionError when the connection
  // closes first or the server sends bytes that are not a response.
  Reply receive();
  // Sends and waits for the response with the request's id, or an error about the connection
  // itself (id 0). Responses with other ids that arrive meanwhile are dropped.
  Reply call(capnp::MessageBuilder& request);

 private:
  std::size_t read_some(void* data, std::size_t size);

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  bool tls_;
  FrameReader frames_;
  std::vector<std::uint8_t> outgoing_;  // queued requests' frames
  std::array<std::uint8_t, 64 * 1024> buffer_{};
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
};

// Makes `message`'s root a Request with `id` and returns it for the caller to fill the union.
protocol::Request::Builder new_request(capnp::MallocMessageBuilder& message, std::uint64_t id = 1);

// Splits HOST:PORT (HOST may be [v6]); throws CannotConnect when there is no port.
std::pair<std::string, std::string> split_host_port(const std::string& server);

}  // namespace ledger::client
