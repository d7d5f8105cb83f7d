#include "tools/bench/ledgerd_process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/client/client.h"
#include "tools/bench/process_memory.h"

extern char** environ;

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::unique_ptr<client::Client> bench_session(const std::string& server) {
  client::Options options;
  options.connect.server = server;
  options.token = "bench";
  auto session = std::make_unique<client::Client>(options);
  if (session->refused()) throw std::runtime_error("ledgerd refused hello");
  return session;
}

fs::path default_ledgerd_path() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "ledgerd";
  return self.parent_path().parent_path().parent_path() / "server" / "ledgerd";
}

LedgerdProcess::LedgerdProcess(const fs::path& ledgerd, const fs::path& data, const fs::path& log_file,
                               std::chrono::seconds timeout) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {ledgerd.string(), "--data", data.string(), "--listen", "127.0.0.1:0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = Clock::now();
  const int rc = posix_spawn(&pid_, ledgerd.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + ledgerd.string() + ": " + std::strerror(rc));
  }
  stdout_fd_ = out[0];

  const std::string prefix = "listening on ";
  std::string seen;
  const auto deadline = start + timeout;
  while (Clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (poll(&p, 1, static_cast<int>(std::max<long>(left, 1))) <= 0) continue;
    char buffer[256];
    const auto n = read(stdout_fd_, buffer, sizeof buffer);
    if (n <= 0) break;  // exited
    seen.append(buffer, static_cast<std::size_t>(n));
    const auto at = seen.find(prefix);
    const auto eol = at == std::string::npos ? at : seen.find('\n', at);
    if (eol != std::string::npos) {
      startup_seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
      address_ = seen.substr(at + prefix.size(), eol - at - prefix.size());
      return;
    }
  }
  stop();
  throw std::runtime_error("ledgerd did not report \"listening on\"; see " + log_file.string());
}

LedgerdProcess::~LedgerdProcess() { stop(); }

double LedgerdProcess::peak_rss_mb() const { return pid_ > 0 ? bench::peak_rss_mb(pid_) : 0; }

double LedgerdProcess::resident_mb() const { return pid_ > 0 ? bench::resident_mb(pid_) : 0; }

int LedgerdProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ledger::bench
