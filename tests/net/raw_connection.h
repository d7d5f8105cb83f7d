// A plain TCP connection for tests that send bytes no well-behaved client would: connect to
// loopback, send raw bytes, and wait (with a deadline) for a response frame or for the close.
#pragma once

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <capnp/serialize.h>

#include "server/frame_parser.h"
#include "server/protocol.capnp.h"

namespace ledger::testing {

class RawConnection {
 public:
  // `receive_buffer` (bytes, 0: the system's default) makes the kernel hold little of what the
  // server sends while the test does not read, so that the server's own limits are reached soon.
  explicit RawConnection(std::uint16_t port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the server already closed the connection.
  bool send(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
      const auto n = ::send(fd_, p, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      p += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }
  bool send(const std::vector<std::uint8_t>& bytes) { return send(bytes.data(), bytes.size()); }
  bool send(capnp::MessageBuilder& message) {
    auto words = capnp::messageToFlatArray(message);
    return send(words.begin(), words.size() * sizeof(capnp::word));
  }

  // The next response frame, or nullopt when the connection closes or the deadline passes.
  std::optional<kj::Array<capnp::word>> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (pos_ < buffered_.size()) {
        std::size_t used = 0;
        auto r = parser_.parse(buffered_.data() + pos_, buffered_.size() - pos_, used);
        pos_ += used;
        if (r == server::FrameParser::Result::kGood) return parser_.take_frame();
        if (r == server::FrameParser::Result::kBad) return std::nullopt;
      }
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // The next response, decoded; stops the test when there is none.
  struct Decoded {
    kj::Array<capnp::word> frame;
    std::unique_ptr<capnp::FlatArrayMessageReader> reader;
    protocol::Response::Reader get() { return reader->getRoot<protocol::Response>(); }
  };
  std::optional<Decoded> response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto frame = receive(timeout);
    if (!frame) return std::nullopt;
    Decoded d{std::move(*frame), nullptr};
    d.reader = std::make_unique<capnp::FlatArrayMessageReader>(d.frame);
    return d;
  }

  // True when the server ends the connection cleanly (end of file) before the deadline;
  // responses that arrive first are skipped. A reset is not a clean end: see reset().
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      pos_ = buffered_.size();
      if (!fill(deadline)) return eof_;
    }
  }

  // True when the server reset the connection: a read failed with the reset, or (the reset came
  // after the end of file, which reads go on reporting) the kernel holds it as the socket's
  // error. A reset can destroy what the server sent and this side had not read yet.
  bool reset() {
    int error = 0;
    socklen_t size = sizeof error;
    if (!reset_ && getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) == 0) {
      reset_ = error == ECONNRESET || error == EPIPE;
    }
    return reset_;
  }

 private:
  // Reads what is available; false at end of file, on a reset or at the deadline.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const auto n = recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      reset_ = errno == ECONNRESET;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
    buffered_.insert(buffered_.end(), chunk, chunk + n);
    return true;
  }

  int fd_ = -1;
  std::vector<std::uint8_t> buffered_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  bool reset_ = false;
  server::FrameParser parser_{{64 << 20, 512}};
};

}  // namespace ledger::testing
