// ErasureWaiter: lets a client that purged wait for the erasure pass's report without blocking
// a network thread. Each wait runs on a small pool of its own and polls the command service in
// short slices, so that stop() ends every wait promptly (the pass itself goes on, or resumes
// at the next start).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include <boost/asio/thread_pool.hpp>

#include "server/command_service.h"
#include "server/request_handler.h"

namespace ledger::server {

class ErasureWaiter {
 public:
  // "*service" must outlive the waiter. A wait gives up after `timeout` and answers "pending".
  ErasureWaiter(CommandService& service, std::chrono::milliseconds timeout);
  ~ErasureWaiter();

  // What RequestHandler calls when a purge asks to wait.
  ErasureWait callback();
  // Ends every wait (answering "pending") and joins the pool. Idempotent.
  void stop();

 private:
  void wait(std::uint64_t purge_seq, std::function<void(ErasureReport)> done);

  CommandService& service_;
  const std::chrono::milliseconds timeout_;
  std::atomic<bool> stopping_{false};
  boost::asio::thread_pool pool_{2};
};

// The state a report stands for: "done" when it says "verified": true, else "failed".
ErasureReport report_from_json(std::string json);

}  // namespace ledger::server
