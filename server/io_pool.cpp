#include "server/io_pool.h"

#include <algorithm>
#include <thread>

namespace ledger::server {

IoPool::IoPool(unsigned threads) {
  threads = std::max(1u, threads);
  for (unsigned i = 0; i < threads; ++i) {
    // One thread runs each: Asio need not wake a second thread for work it posts to itself.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    if (i > 0) guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

boost::asio::io_context& IoPool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoPool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([context = contexts_[i].get()] { context->run(); });
  main().run();
  for (auto& guard : guards_) guard.reset();
  for (auto& thread : threads) thread.join();
}

}  // namespace ledger::server
