// LedgerClient: a blocking client of ledgerd's protocol (server/protocol.capnp) over TCP,
// optionally TLS. Sends one request at a time, or several before reading (pipelining), and
// reads responses with the same frame checks as the server.
//
// Not thread-safe: one thread uses a client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "server/frame_parser.h"
#include "server/protocol.capnp.h"

namespace ledger::tools {

// The server cannot be reached, or the connection broke.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClientOptions {
  std::string server = "127.0.0.1:7400";  // HOST:PORT
  bool tls = false;
  std::string tls_ca;  // PEM file to verify the server with; empty: no verification
};

// One received response; owns its bytes.
class Reply {
 public:
  explicit Reply(kj::Array<capnp::word> frame);
  protocol::Response::Reader get() const { return root_; }

 private:
  kj::Array<capnp::word> frame_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  protocol::Response::Reader root_;
};

class LedgerClient {
 public:
  // Connects; throws ConnectionError when it cannot.
  explicit LedgerClient(const ClientOptions& options);
  ~LedgerClient();

  // Sends a request; the builder's root must be a Request. Throws ConnectionError.
  void send(capnp::MessageBuilder& request);
  // Sends raw bytes as they are (tests of bad input use this).
  void send_bytes(const void* data, std::size_t size);
  // Reads the next response. Throws ConnectionError when the connection closes first or the
  // server sends bytes that are not a response.
  Reply receive();
  // Sends and waits for the response with the same id (skipping subscription entries).
  Reply call(capnp::MessageBuilder& request);

 private:
  std::size_t read_some(void* data, std::size_t size);

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  bool tls_;
  server::FrameParser parser_;
  std::array<std::uint8_t, 64 * 1024> buffer_{};
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
};

// Builds a request message with id 1 (the caller fills the union).
protocol::Request::Builder new_request(capnp::MallocMessageBuilder& message, std::uint64_t id = 1);

}  // namespace ledger::tools
