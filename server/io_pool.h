// IoPool: the network threads, each running an io_context of its own. A connection is placed
// on one of them when it is accepted (next(), round robin) and all its handlers run on that
// thread: reading a command, writing it alone (CommandService::Submit::kWriteIfAlone) and
// sending the answer stay on one thread, with no wake-up of another network thread between
// them. Work another thread hands to a connection (the publisher's answers, the commit feed)
// wakes only the thread that connection lives on. docs/performance.md says what it measured.
//
// The first context (main()) also holds the listeners, the signal handling and the shutdown
// timers; run() runs it on the calling thread.
//
// Thread-safety: next() and main() may be called from any thread; run() once, from one thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace ledger::server {

class IoPool {
 public:
  // `threads` io_contexts (at least one), each for one thread.
  explicit IoPool(unsigned threads);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& main() { return *contexts_.front(); }
  // The context for the next connection.
  boost::asio::io_context& next();

  // Runs main() on the calling thread and every other context on a thread of its own. The
  // other contexts keep running while they have nothing to do, until main() has run out of
  // work (its listeners closed, its timers done); run() returns once each has then finished
  // what it still had.
  void run();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;  // for contexts_[1..]
  std::atomic<std::size_t> next_{0};
};

}  // namespace ledger::server
