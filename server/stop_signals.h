// StopSignals: SIGINT and SIGTERM as requests to stop ledgerd, however many arrive and whenever.
//
// Asio's signal_set catches a signal only while it exists. One that arrives after it is gone,
// while ledgerd closes its data and exits, gets the default action: the process dies (exit
// status 143 for SIGTERM), and a clean stop looks like a crash to whoever sent it twice. So
// ledgerd blocks both signals in every thread instead — block() runs first in main, and
// threads inherit the mask of the thread that starts them — and a StopSignals takes them with
// sigwait on a thread of its own: the first calls `on_stop`, a later one is logged (once) and
// changes nothing. A signal that arrives before the StopSignals exists waits, pending, and is
// taken as soon as it starts; one that arrives after it is gone stays pending until the process
// exits with the status it chose.
//
// Thread-safety: block() once, in main, before any thread starts. Construct and destroy a
// StopSignals on one thread; `on_stop` runs on its own.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace ledger::server {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts from then on.
  // Throws std::system_error when the mask cannot be set.
  static void block();

  // Starts the thread that waits for the signals; `on_stop` runs on it once, with the first
  // signal, and must not block. block() must have run before.
  explicit StopSignals(std::function<void(int signal)> on_stop);
  // Ends the waiting thread; signals arriving later stay blocked.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void run();

  std::function<void(int)> on_stop_;
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

}  // namespace ledger::server
