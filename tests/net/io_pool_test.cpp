// The network threads (server/io_pool.h): each context on a thread of its own, connections
// spread over them, and run() returning only after every context has finished its work.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "server/io_pool.h"

using namespace ledger;

TEST_CASE("each network thread runs one context, and run returns after the others finish", "[io-pool]") {
  server::IoPool pool(3);
  REQUIRE(pool.size() == 3);
  std::mutex mutex;
  std::map<boost::asio::io_context*, std::set<std::thread::id>> threads;
  int ran = 0;
  // Posted from main's own thread, as the acceptor places a connection: main then runs out of
  // work at once, while the others still have theirs.
  boost::asio::post(pool.main(), [&] {
    for (int i = 0; i < 9; ++i) {
      auto& context = pool.next();
      boost::asio::post(context, [&, context = &context] {
        std::this_thread::yield();
        std::lock_guard lock(mutex);
        threads[context].insert(std::this_thread::get_id());
        ++ran;
      });
    }
  });
  pool.run();
  CHECK(ran == 9);
  REQUIRE(threads.size() == 3);  // round robin: every context got three
  std::set<std::thread::id> all;
  for (const auto& [context, ids] : threads) {
    CHECK(ids.size() == 1);  // one thread per context
    all.insert(ids.begin(), ids.end());
  }
  CHECK(all.size() == 3);  // and no thread shared
  CHECK(threads[&pool.main()].count(std::this_thread::get_id()) == 1);  // main on the caller's
}
