#include "ledger/client/connection.h"

#include <cstring>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <kj/exception.h>

namespace ledger::client {
namespace asio = boost::asio;
using asio::ip::tcp;

Reply::Reply(kj::Array<capnp::word> frame) : frame_(std::move(frame)) {
  try {
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(frame_, frame_reader_options(frame_.size()));
    root_ = reader_->getRoot<protocol::Response>();
    (void)root_.totalSize();  // walks every pointer once: a bad one throws here, not later
  } catch (const kj::Exception&) {
    throw ConnectionError("the server sent a frame that is not a response");
  }
}

std::optional<Refusal> Reply::refusal() const {
  if (empty() || !root_.isError()) return std::nullopt;
  return Refusal::from(root_.getError());
}

std::pair<std::string, std::string> split_host_port(const std::string& server) {
  const auto colon = server.rfind(':');
  if (colon == std::string::npos) throw CannotConnect("--server must be HOST:PORT, got " + server);
  auto host = server.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, server.substr(colon + 1)};
}

Connection::Connection(const ConnectOptions& options)
    : context_(asio::ssl::context::tls_client), stream_(io_, context_), tls_(options.tls) {
  const auto [host, port] = split_host_port(options.server);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) throw CannotConnect("cannot resolve " + options.server + ": " + ec.message());
  asio::connect(stream_.next_layer(), endpoints, ec);
  if (ec) throw CannotConnect("cannot connect to " + options.server + ": " + ec.message());
  stream_.next_layer().set_option(tcp::no_delay(true), ec);
  if (tls_) {
    if (!options.tls_ca.empty()) {
      context_.load_verify_file(options.tls_ca, ec);
      if (ec) throw CannotConnect("cannot read " + options.tls_ca + ": " + ec.message());
      stream_.set_verify_mode(asio::ssl::verify_peer);
    } else {
      stream_.set_verify_mode(asio::ssl::verify_none);
    }
    stream_.handshake(asio::ssl::stream_base::client, ec);
    if (ec) throw CannotConnect("TLS handshake with " + options.server + " failed: " + ec.message());
  }
}

Connection::~Connection() {
  boost::system::error_code ignored;
  stream_.next_layer().close(ignored);
}

void Connection::send_bytes(const void* data, std::size_t size) {
  boost::system::error_code ec;
  if (tls_) {
    asio::write(stream_, asio::buffer(data, size), ec);
  } else {
    asio::write(stream_.next_layer(), asio::buffer(data, size), ec);
  }
  if (ec) throw ConnectionError("the connection to the server broke: " + ec.message());
}

void Connection::queue(capnp::MessageBuilder& request) {
  const auto segments = request.getSegmentsForOutput();
  const std::size_t table_words = (segments.size() + 2) / 2;
  std::size_t words = table_words;
  for (auto segment : segments) words += segment.size();
  const auto at = outgoing_.size();
  outgoing_.resize(at + words * sizeof(capnp::word));
  auto* out = outgoing_.data() + at;
  auto put_u32 = [&](std::size_t i, std::uint32_t v) {  // little-endian, as the server reads it
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(v >> (8 * b));
  };
  put_u32(0, static_cast<std::uint32_t>(segments.size() - 1));
  for (std::size_t i = 0; i < segments.size(); ++i) put_u32(i + 1, static_cast<std::uint32_t>(segments[i].size()));
  if (segments.size() % 2 == 0) put_u32(segments.size() + 1, 0);
  out += table_words * sizeof(capnp::word);
  for (auto segment : segments) {
    const auto bytes = segment.asBytes();
    std::memcpy(out, bytes.begin(), bytes.size());
    out += bytes.size();
  }
}

void Connection::flush() {
  if (outgoing_.empty()) return;
  send_bytes(outgoing_.data(), outgoing_.size());
  outgoing_.clear();
  // A large request (a bulk import's) does not keep its buffer for the small ones after it.
  if (outgoing_.capacity() > buffer_.size()) outgoing_.shrink_to_fit();
}

bool Connection::reply_buffered() const { return FrameReader::holds_frame(buffer_.data() + pos_, len_ - pos_); }

void Connection::send(capnp::MessageBuilder& request) {
  // Framed into the buffer and written with whatever was queued: one write (one TLS record
  // for a small request), the table and the segments together.
  queue(request);
  flush();
}

std::size_t Connection::read_some(void* data, std::size_t size) {
  boost::system::error_code ec;
  auto n = tls_ ? stream_.read_some(asio::buffer(data, size), ec)
                : stream_.next_layer().read_some(asio::buffer(data, size), ec);
  if (ec) throw ConnectionError("the server closed the connection");
  return n;
}

Reply Connection::receive() {
  for (;;) {
    if (pos_ == len_) {
      len_ = read_some(buffer_.data(), buffer_.size());
      pos_ = 0;
    }
    std::size_t consumed = 0;
    auto result = frames_.parse(buffer_.data() + pos_, len_ - pos_, consumed);
    pos_ += consumed;
    if (result == FrameReader::Result::kGood) return Reply(frames_.take_frame());
    if (result == FrameReader::Result::kBad) throw ConnectionError("bad frame from the server: " + frames_.error());
  }
}

Reply Connection::call(capnp::MessageBuilder& request) {
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

}  // namespace ledger::client
