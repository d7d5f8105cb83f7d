// A TCP proxy on 127.0.0.1 in front of ledgerd that breaks its first connection (or, with
// `every_connection`, each one) at a chosen moment: it passes the first `answers_to_pass`
// responses to the client, then drops the next one and closes both sides. Other connections
// pass everything. It lets a test break a connection after the server has done a command and
// before the client hears of it.
// Threads: one accepting, one per connection; the destructor stops and joins them. For tests only.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/frame_parser.h"

namespace ledger::testing {

class BreakingProxy {
 public:
  BreakingProxy(std::uint16_t upstream_port, int answers_to_pass, bool every_connection = false)
      : upstream_port_(upstream_port), answers_to_pass_(answers_to_pass), every_connection_(every_connection) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 16) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    socklen_t size = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~BreakingProxy() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    close(listener_);
    std::lock_guard lock(mutex_);
    for (auto& t : relays_) t.join();
  }
  BreakingProxy(const BreakingProxy&) = delete;
  BreakingProxy& operator=(const BreakingProxy&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Connections accepted so far.
  int connections() const { return connections_; }
  // True once a connection was broken as planned.
  bool broke() const { return broke_; }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  void accept_loop() {
    for (;;) {
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;  // shut down
      const bool to_break = connections_++ == 0 || every_connection_;
      std::lock_guard lock(mutex_);
      relays_.emplace_back([this, client, to_break] { relay(client, to_break); });
    }
  }

  // Copies bytes both ways until either side closes; on a connection `to_break`, counts the
  // server's response frames and breaks at the one to drop.
  void relay(int client, bool to_break) {
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(upstream_port_);
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(server);
      close(client);
      return;
    }
    server::FrameParser parser({64 << 20, 512});
    int passed = 0;
    bool broken = false;
    char chunk[65536];
    bool open = true;
    while (open && !stopping_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (poll(fds, 2, 100) <= 0) continue;
      if (fds[0].revents != 0) {
        const auto n = recv(client, chunk, sizeof chunk, 0);
        open = n > 0 && send(server, chunk, static_cast<std::size_t>(n), MSG_NOSIGNAL) == n;
      }
      if (open && fds[1].revents != 0) {
        const auto n = recv(server, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        if (!to_break || broken) {
          open = send(client, chunk, static_cast<std::size_t>(n), MSG_NOSIGNAL) == n;
          continue;
        }
        // Passes whole frames until the one to drop is complete, then breaks.
        std::size_t at = 0;
        while (at < static_cast<std::size_t>(n) && !broken) {
          std::size_t used = 0;
          const auto result = parser.parse(reinterpret_cast<const std::uint8_t*>(chunk) + at,
                                           static_cast<std::size_t>(n) - at, used);
          if (result == server::FrameParser::Result::kBad) {
            open = false;
            break;
          }
          if (result == server::FrameParser::Result::kGood) {
            auto frame = parser.take_frame();
            if (passed == answers_to_pass_) {
              broken = true;
              broke_ = true;
              break;
            }
            ++passed;
            const auto bytes = frame.asBytes();
            send(client, bytes.begin(), bytes.size(), MSG_NOSIGNAL);
          }
          at += used;
        }
        if (broken || !open) break;
      }
    }
    close(server);
    close(client);
  }

  const std::uint16_t upstream_port_;
  const int answers_to_pass_;
  const bool every_connection_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> broke_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> relays_;  // guarded by mutex_
};

}  // namespace ledger::testing
