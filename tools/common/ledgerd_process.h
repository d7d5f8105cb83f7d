// LedgerdProcess: a ledgerd child process on a data directory, listening on a loopback port that
// it reports: start it, learn its address from the "listening on HOST:PORT" line on its stdout
// (and with --http, its HTTP address from the "console on http://HOST:PORT/" or "https://" line
// after it), signal it, collect its exit code. Every wait polls with a deadline. The tests
// (tests/support/ledgerd_process.h) and ledger-bench start ledgerd through it.
//
// Not thread-safe: one thread drives a LedgerdProcess.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace ledger::tools {

struct LedgerdLaunch {
  std::filesystem::path ledgerd;       // the executable
  std::filesystem::path data;          // its --data
  std::filesystem::path log_file;      // its stderr, appended to
  std::string listen = "127.0.0.1:0";  // its --listen
  std::vector<std::string> extra;      // further arguments
  // How long the start may take, to the "listening on" line.
  std::chrono::seconds startup_timeout{20};
  // How long stop() and wait_exit() wait for the exit before they kill it.
  std::chrono::seconds exit_timeout{30};
  // Sent by the destructor to a process still running, which it then waits for.
  int destructor_signal = SIGKILL;
};

class LedgerdProcess {
 public:
  // Starts ledgerd (stdin /dev/null, stdout read here, stderr to the log file) and waits for its
  // "listening on" line (and with --http among `extra`, its "console on" line). Throws
  // std::runtime_error when it cannot start, exits or stays silent until the startup timeout.
  explicit LedgerdProcess(LedgerdLaunch launch);
  // Sends the launch's destructor_signal to a process still running and waits for it.
  ~LedgerdProcess();
  LedgerdProcess(const LedgerdProcess&) = delete;
  LedgerdProcess& operator=(const LedgerdProcess&) = delete;

  // HOST:PORT and port from the "listening on" line.
  const std::string& address() const { return address_; }
  std::uint16_t port() const { return port_; }
  // With --http: the console's HOST:PORT and port, as its "console on" line gave them.
  const std::string& http_address() const { return http_address_; }
  std::uint16_t http_port() const { return http_port_; }
  const std::filesystem::path& log_path() const { return launch_.log_file; }
  // The process id while it runs (for reading /proc/PID); -1 once it has exited and been reaped.
  pid_t pid() const { return pid_; }
  // From the start to the "listening on" line: opening the data directory included.
  double startup_seconds() const { return startup_seconds_; }

  // Sends `signal` and waits for the exit (see wait_exit). Returns -1 when it already exited.
  int stop(int signal = SIGTERM);
  // Sends `signal` and returns at once.
  void send_signal(int signal);
  // Waits up to the exit timeout for the exit (then kills it); returns the exit code, or -1 when
  // it was killed by a signal or did not exit in time.
  int wait_exit();
  // True while the process has not exited.
  bool running();

 private:
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline);

  LedgerdLaunch launch_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string address_;
  std::uint16_t port_ = 0;
  std::string http_address_;
  std::uint16_t http_port_ = 0;
  double startup_seconds_ = 0;
};

}  // namespace ledger::tools
