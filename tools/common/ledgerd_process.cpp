#include "tools/common/ledgerd_process.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ledger::tools {

namespace {

using Clock = std::chrono::steady_clock;

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

}  // namespace

LedgerdProcess::LedgerdProcess(LedgerdLaunch launch) : launch_(std::move(launch)) {
  std::vector<std::string> args = {launch_.ledgerd.string(), "--data", launch_.data.string(), "--listen",
                                   launch_.listen};
  args.insert(args.end(), launch_.extra.begin(), launch_.extra.end());
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, launch_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = Clock::now();
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    pid_ = -1;
    close(out[0]);
    throw std::runtime_error("cannot start " + launch_.ledgerd.string() + ": " + std::strerror(rc));
  }
  stdout_ = out[0];

  const auto deadline = start + launch_.startup_timeout;
  const std::string prefix = "listening on ";
  std::optional<std::string> line;
  do {
    line = read_line(deadline);
  } while (line && line->rfind(prefix, 0) != 0);
  if (!line) {
    stop(SIGKILL);
    throw std::runtime_error("ledgerd did not report \"listening on\"; see " + launch_.log_file.string());
  }
  startup_seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
  address_ = line->substr(prefix.size());
  port_ = port_of(address_);
  if (std::find(launch_.extra.begin(), launch_.extra.end(), "--http") != launch_.extra.end()) {
    const auto console = read_line(Clock::now() + launch_.startup_timeout);
    const std::string console_prefix =
        console && console->rfind("console on https://", 0) == 0 ? "console on https://" : "console on http://";
    if (!console || console->rfind(console_prefix, 0) != 0 || console->back() != '/') {
      stop(SIGKILL);
      throw std::runtime_error("ledgerd did not serve HTTP: " + (console ? *console : std::string("no line")));
    }
    http_address_ = console->substr(console_prefix.size(), console->size() - console_prefix.size() - 1);
    http_port_ = port_of(http_address_);
  }
}

LedgerdProcess::~LedgerdProcess() {
  if (pid_ > 0) stop(launch_.destructor_signal);
  if (stdout_ >= 0) close(stdout_);
}

int LedgerdProcess::stop(int signal) {
  send_signal(signal);
  return wait_exit();
}

void LedgerdProcess::send_signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int LedgerdProcess::wait_exit() {
  if (pid_ <= 0) return -1;
  const auto deadline = Clock::now() + launch_.exit_timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the child, bounded
  }
  kill(pid_, SIGKILL);
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return -1;
}

bool LedgerdProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::optional<std::string> LedgerdProcess::read_line(Clock::time_point deadline) {
  std::string line;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{stdout_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c = 0;
    if (read(stdout_, &c, 1) != 1) return std::nullopt;
    if (c == '\n') return line;
    line.push_back(c);
  }
}

}  // namespace ledger::tools
