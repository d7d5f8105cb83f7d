// LedgerdProcess: a ledgerd child process on a data directory, listening on a free loopback
// port. The benchmark talks to it over TCP like any client (bench_session), and reads its
// peak resident memory from /proc.
//
// Not thread-safe. The destructor stops the process (SIGTERM, then waits for it).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <sys/types.h>

namespace ledger::client {
class Client;
}

namespace ledger::bench {

// A session with `server` (HOST:PORT) that said hello as the benchmark (a ledgerd without
// --tokens accepts it); its requests go through session->connection() with the benchmark's own
// ids (from 2). Throws client::ConnectionError when it cannot connect, std::runtime_error when
// ledgerd refuses.
std::unique_ptr<client::Client> bench_session(const std::string& server);

class LedgerdProcess {
 public:
  // Starts `ledgerd` on `data` and waits (up to `timeout`) for its "listening on" line; its
  // log goes to `log_file`. Throws std::runtime_error when it exits or stays silent.
  LedgerdProcess(const std::filesystem::path& ledgerd, const std::filesystem::path& data,
                 const std::filesystem::path& log_file, std::chrono::seconds timeout = std::chrono::seconds(120));
  ~LedgerdProcess();
  LedgerdProcess(const LedgerdProcess&) = delete;
  LedgerdProcess& operator=(const LedgerdProcess&) = delete;

  // HOST:PORT from the "listening on" line.
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  // From exec to the "listening on" line: opening the data directory included.
  double startup_seconds() const { return startup_seconds_; }
  // VmHWM: the peak resident set so far, in MiB; 0 when it cannot be read.
  double peak_rss_mb() const;
  // VmRSS: the resident set now, in MiB; 0 when it cannot be read.
  double resident_mb() const;
  // SIGTERM and wait; returns the exit status (or -1). Idempotent.
  int stop();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string address_;
  double startup_seconds_ = 0;
};

// The ledgerd next to this executable in the build tree (build/server/ledgerd).
std::filesystem::path default_ledgerd_path();

}  // namespace ledger::bench
