// A real ledgerd child process on 127.0.0.1 port 0, for integration tests: start it, learn its
// port from the "listening on HOST:PORT" line (and with --http, its HTTP port from the "console on
// http://HOST:PORT/" or "https://" line after it), stop it with a signal and collect its exit code.
// Every wait polls with a deadline. For tests only.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ledger::testing {

class LedgerdProcess {
 public:
  // Starts ledgerd with --data `data` --listen 127.0.0.1:0 and `extra` arguments; its stderr
  // goes to `data`.log. Throws when it does not print its listening line within 20 s.
  LedgerdProcess(const std::filesystem::path& data, std::vector<std::string> extra = {},
                 std::string listen = "127.0.0.1:0") {
    std::vector<std::string> args = {LEDGERD_PATH, "--data", data.string(), "--listen", listen, "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    log_ = data.string() + ".log";
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    stdout_ = out[0];
    if (rc != 0) throw std::runtime_error("cannot start ledgerd");
    const auto line = read_line(std::chrono::seconds(20));
    const std::string prefix = "listening on ";
    if (!line || line->rfind(prefix, 0) != 0) {
      stop(SIGKILL);
      throw std::runtime_error("ledgerd did not start: " + (line ? *line : std::string("no line")));
    }
    address_ = line->substr(prefix.size());
    port_ = static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
    if (std::find(extra.begin(), extra.end(), "--http") != extra.end()) {
      const auto console = read_line(std::chrono::seconds(20));
      const std::string console_prefix =
          console && console->rfind("console on https://", 0) == 0 ? "console on https://" : "console on http://";
      if (!console || console->rfind(console_prefix, 0) != 0 || console->back() != '/') {
        stop(SIGKILL);
        throw std::runtime_error("ledgerd did not serve HTTP: " + (console ? *console : std::string("no line")));
      }
      http_address_ = console->substr(console_prefix.size(), console->size() - console_prefix.size() - 1);
      http_port_ = static_cast<std::uint16_t>(std::stoi(http_address_.substr(http_address_.rfind(':') + 1)));
    }
  }

  ~LedgerdProcess() {
    if (pid_ > 0) stop(SIGKILL);
    if (stdout_ >= 0) close(stdout_);
  }
  LedgerdProcess(const LedgerdProcess&) = delete;
  LedgerdProcess& operator=(const LedgerdProcess&) = delete;

  const std::string& address() const { return address_; }
  std::uint16_t port() const { return port_; }
  // With --http: the console's HOST:PORT and port, as its "console on" line gave them.
  const std::string& http_address() const { return http_address_; }
  std::uint16_t http_port() const { return http_port_; }
  const std::string& log_path() const { return log_; }
  // The process id while it runs (for reading /proc/PID); -1 once it has exited and been reaped.
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits up to 30 s for the exit; returns the exit code, or -1 when it was
  // killed by a signal or did not exit in time.
  int stop(int signal = SIGTERM) {
    send_signal(signal);
    return wait_exit();
  }

  // Sends `signal` and returns at once.
  void send_signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }

  // Waits up to 30 s for the exit (then kills it); returns the exit code, or -1 when it was
  // killed by a signal or did not exit in time.
  int wait_exit() {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the child, bounded
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }

  // True while the process has not exited.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

 private:
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char c = 0;
      if (read(stdout_, &c, 1) != 1) return std::nullopt;
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string log_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::string http_address_;
  std::uint16_t http_port_ = 0;
};

}  // namespace ledger::testing
