#include "tools/ledgerctl_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <kj/exception.h>

namespace ledger::tools {
namespace asio = boost::asio;
using asio::ip::tcp;

Reply::Reply(kj::Array<capnp::word> frame) : frame_(std::move(frame)) {
  try {
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(frame_, server::frame_reader_options(frame_.size()));
    root_ = reader_->getRoot<protocol::Response>();
    (void)root_.totalSize();
  } catch (const kj::Exception& e) {
    throw ConnectionError("the server sent a frame that is not a response");
  }
}

LedgerClient::LedgerClient(const ClientOptions& options)
    : context_(asio::ssl::context::tls_client), stream_(io_, context_), tls_(options.tls), parser_({16 << 20, 512}) {
  auto colon = options.server.rfind(':');
  if (colon == std::string::npos) throw ConnectionError("--server must be HOST:PORT, got " + options.server);
  auto host = options.server.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host, options.server.substr(colon + 1), ec);
  if (ec) throw ConnectionError("cannot resolve " + options.server + ": " + ec.message());
  asio::connect(stream_.next_layer(), endpoints, ec);
  if (ec) throw ConnectionError("cannot connect to " + options.server + ": " + ec.message());
  stream_.next_layer().set_option(tcp::no_delay(true), ec);
  if (tls_) {
    if (!options.tls_ca.empty()) {
      context_.load_verify_file(options.tls_ca, ec);
      if (ec) throw ConnectionError("cannot read " + options.tls_ca + ": " + ec.message());
      stream_.set_verify_mode(asio::ssl::verify_peer);
    } else {
      stream_.set_verify_mode(asio::ssl::verify_none);
    }
    stream_.handshake(asio::ssl::stream_base::client, ec);
    if (ec) throw ConnectionError("TLS handshake with " + options.server + " failed: " + ec.message());
  }
}

LedgerClient::~LedgerClient() {
  boost::system::error_code ignored;
  stream_.next_layer().close(ignored);
}

void LedgerClient::send_bytes(const void* data, std::size_t size) {
  boost::system::error_code ec;
  if (tls_) {
    asio::write(stream_, asio::buffer(data, size), ec);
  } else {
    asio::write(stream_.next_layer(), asio::buffer(data, size), ec);
  }
  if (ec) throw ConnectionError("the connection to the server broke: " + ec.message());
}

void LedgerClient::send(capnp::MessageBuilder& request) {
  auto words = capnp::messageToFlatArray(request);
  send_bytes(words.begin(), words.size() * sizeof(capnp::word));
}

std::size_t LedgerClient::read_some(void* data, std::size_t size) {
  boost::system::error_code ec;
  auto n = tls_ ? stream_.read_some(asio::buffer(data, size), ec)
                : stream_.next_layer().read_some(asio::buffer(data, size), ec);
  if (ec) throw ConnectionError("the server closed the connection");
  return n;
}

Reply LedgerClient::receive() {
  for (;;) {
    if (pos_ == len_) {
      len_ = read_some(buffer_.data(), buffer_.size());
      pos_ = 0;
    }
    std::size_t consumed = 0;
    auto result = parser_.parse(buffer_.data() + pos_, len_ - pos_, consumed);
    pos_ += consumed;
    if (result == server::FrameParser::Result::kGood) return Reply(parser_.take_frame());
    if (result == server::FrameParser::Result::kBad) throw ConnectionError("bad frame from the server");
  }
}

Reply LedgerClient::call(capnp::MessageBuilder& request) {
  const auto id = request.getRoot<protocol::Request>().getId();
  send(request);
  for (;;) {
    auto reply = receive();
    auto response = reply.get();
    if (response.getId() == id) return reply;
    if (response.getId() == 0 && response.isError()) return reply;  // about the connection itself
  }
}

protocol::Request::Builder new_request(capnp::MallocMessageBuilder& message, std::uint64_t id) {
  auto request = message.initRoot<protocol::Request>();
  request.setId(id);
  return request;
}

}  // namespace ledger::tools
