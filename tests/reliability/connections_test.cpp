// Many and misbehaving connections against a real ledgerd: 1,000 held at once and all served;
// 100 slow-loris clients that dribble a frame byte by byte, which must not hold up another
// client beyond the deadlines and must be closed by the frame deadline; and a flood of
// connections that never say hello, shed at the hello deadline while the server keeps serving;
// and bursts of 1,000 short connections, after which ledgerd gives the memory back.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "support/frame_bytes.h"
#include "support/ledgerd_process.h"
#include "net/raw_connection.h"
#include "support/ledger_calls.h"
#include "support/process_memory.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::bytes_of;
using ledger::testing::RawConnection;
using ledger::testing::resident_kib;
using ledger::testing::TempDir;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kHelloTimeout = milliseconds(1'000);
constexpr auto kFrameTimeout = milliseconds(1'500);
// How late a deadline may fire on a shared, busy 2-core machine.
constexpr auto kSlack = milliseconds(4'000);

// Room for this process's sockets (and ledgerd's, which inherits the limit).
void raise_open_files(rlim_t wanted) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  REQUIRE(limit.rlim_cur >= wanted);
}

std::vector<std::uint8_t> hello_bytes() {
  return bytes_of(*testing::request_message(1, [](auto r) { r.initHello().setToken(""); }));
}

std::uint32_t open_connections(client::Connection& client) {
  auto reply = client.call(*testing::request_message(3, [](auto r) { r.setStats(); }));
  REQUIRE(reply.get().isStats());
  return reply.get().getStats().getConnections();
}

// Waits until the server counts `expected` open connections (the watcher's own included).
std::uint32_t await_connections(client::Connection& watcher, std::uint32_t expected, milliseconds timeout) {
  std::uint32_t open = 0;
  const auto deadline = Clock::now() + timeout;
  while ((open = open_connections(watcher)) != expected && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));  // polling the server's count, bounded
  }
  return open;
}

// A client timing its own requests (a create, then a get of it) while others misbehave.
struct Bystander {
  std::atomic<bool> stop{false};
  std::uint64_t answered = 0, refused = 0;
  milliseconds worst{0};

  void run(const std::string& address, milliseconds max_duration) {
    client::Connection client({address, false, {}});
    testing::hello(client);
    const auto end = Clock::now() + max_duration;
    for (std::uint64_t i = 0; !stop.load() && Clock::now() < end && i < 100'000; ++i) {
      const auto start = Clock::now();
      auto created = client.call(*testing::create_message(10 + 2 * i, "bystander-" + std::to_string(i),
                                                          "Bystander " + std::to_string(i)));
      bool ok = created.get().isWritten();
      if (ok) {
        const auto number = created.get().getWritten().getNumber();
        auto got = client.call(*testing::request_message(11 + 2 * i, [&](auto r) { r.initGet().setNumber(number); }));
        ok = got.get().isCustomer();
      }
      worst = std::max(worst, std::chrono::duration_cast<milliseconds>(Clock::now() - start));
      (ok ? answered : refused) += 1;
    }
  }
};

}  // namespace

TEST_CASE("1,000 connections held at once are all served", "[reliability][connections]") {
  raise_open_files(4096);
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "1100", "--hello-timeout-ms", "10000"});
  const auto hello = hello_bytes();
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 1000; ++i) {
    held.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(held.back()->send(hello));
  }
  std::size_t welcomed = 0;
  for (auto& c : held) {
    auto r = c->response(std::chrono::seconds(20));
    welcomed += r && r->get().isWelcome();
  }
  CHECK(welcomed == 1000);

  client::Connection watcher({server.address(), false, {}});
  testing::hello(watcher);
  CHECK(open_connections(watcher) == 1001);

  // Every held connection is still served: each asks for a customer that does not exist.
  for (std::size_t i = 0; i < held.size(); ++i) {
    REQUIRE(held[i]->send(*testing::request_message(5, [](auto r) { r.initGet().setNumber(424242); })));
  }
  std::size_t answered = 0;
  for (auto& c : held) {
    auto r = c->response(std::chrono::seconds(20));
    answered += r && r->get().isError() && r->get().getError().getCode() == protocol::ErrorCode::NOT_FOUND;
  }
  CHECK(answered == 1000);
  held.clear();
  CHECK(server.stop() == 0);
  WARN("1,000 connections: " << welcomed << " welcomed, " << answered << " served while all were open");
}

TEST_CASE("100 slow-loris connections are closed by the frame deadline and delay no one else",
          "[reliability][connections]") {
  raise_open_files(1024);
  TempDir dir;
  LedgerdProcess server(dir.path() / "data",
                        {"--hello-timeout-ms", std::to_string(kHelloTimeout.count()), "--frame-timeout-ms",
                         std::to_string(kFrameTimeout.count())});
  const auto hello = hello_bytes();
  std::vector<std::unique_ptr<RawConnection>> loris;
  for (int i = 0; i < 100; ++i) {
    loris.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(loris.back()->send(hello));
    auto welcome = loris.back()->response(std::chrono::seconds(10));
    REQUIRE(welcome);
    REQUIRE(welcome->get().isWelcome());
  }
  const auto create = bytes_of(*testing::create_message(9, "never-finished", "Never Finished"));

  Bystander bystander;
  std::thread timed([&] { bystander.run(server.address(), milliseconds(30'000)); });

  // One byte per connection every 100 ms, never the last byte; each gets its timeout noted.
  std::vector<std::optional<milliseconds>> closed_after(loris.size());
  std::vector<protocol::ErrorCode> codes(loris.size(), protocol::ErrorCode::INTERNAL);
  std::vector<Clock::time_point> first_byte(loris.size());
  const auto give_up = Clock::now() + kFrameTimeout + kSlack;
  for (std::size_t round = 0; round + 1 < create.size() && Clock::now() < give_up; ++round) {
    for (std::size_t i = 0; i < loris.size(); ++i) {
      if (closed_after[i]) continue;
      if (round == 0) first_byte[i] = Clock::now();
      if (auto r = loris[i]->response(milliseconds(2))) {
        closed_after[i] = std::chrono::duration_cast<milliseconds>(Clock::now() - first_byte[i]);
        if (r->get().isError()) codes[i] = r->get().getError().getCode();
        continue;
      }
      loris[i]->send(&create[round], 1);
    }
    if (std::all_of(closed_after.begin(), closed_after.end(), [](auto& c) { return c.has_value(); })) break;
    std::this_thread::sleep_for(milliseconds(100));  // the slow client's pace, not a wait for a condition
  }
  bystander.stop = true;
  timed.join();

  std::size_t timed_out = 0, too_early = 0, closed = 0;
  milliseconds latest{0};
  for (std::size_t i = 0; i < loris.size(); ++i) {
    if (!closed_after[i]) continue;
    timed_out += codes[i] == protocol::ErrorCode::TIMEOUT;
    too_early += *closed_after[i] < kFrameTimeout - milliseconds(200);
    latest = std::max(latest, *closed_after[i]);
    closed += loris[i]->closed_by_server(std::chrono::seconds(5));
  }
  CHECK(timed_out == loris.size());
  CHECK(closed == loris.size());
  CHECK(too_early == 0);
  CHECK(latest <= kFrameTimeout + kSlack);
  CHECK(bystander.refused == 0);
  CHECK(bystander.answered > 0);
  CHECK(bystander.worst < kFrameTimeout);
  CHECK(server.running());
  CHECK(server.stop() == 0);
  WARN("slow-loris: " << timed_out << " of 100 closed with timeout, the last " << latest.count()
                      << " ms after its first byte (frame deadline " << kFrameTimeout.count() << " ms); a bystander had "
                      << bystander.answered << " create+get pairs answered meanwhile, the slowest in "
                      << bystander.worst.count() << " ms");
}

TEST_CASE("a flood of connections that never say hello is shed at the hello deadline", "[reliability][connections]") {
  raise_open_files(2048);
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "600", "--hello-timeout-ms",
                                              std::to_string(kHelloTimeout.count())});
  Bystander bystander;
  std::thread timed([&] { bystander.run(server.address(), milliseconds(30'000)); });

  std::vector<std::unique_ptr<RawConnection>> flood;
  std::vector<Clock::time_point> opened;
  for (int i = 0; i < 500; ++i) {
    flood.push_back(std::make_unique<RawConnection>(server.port()));
    opened.push_back(Clock::now());
  }
  std::size_t timed_out = 0, closed = 0, late = 0;
  for (std::size_t i = 0; i < flood.size(); ++i) {
    auto r = flood[i]->response(kHelloTimeout + kSlack);
    timed_out += r && r->get().isError() && r->get().getError().getCode() == protocol::ErrorCode::TIMEOUT;
    late += Clock::now() - opened[i] > kHelloTimeout + kSlack;
    closed += flood[i]->closed_by_server(std::chrono::seconds(5));
  }
  bystander.stop = true;
  timed.join();
  CHECK(timed_out == flood.size());
  CHECK(closed == flood.size());
  CHECK(late == 0);
  CHECK(bystander.refused == 0);
  CHECK(bystander.answered > 0);
  CHECK(bystander.worst < kHelloTimeout + kSlack);

  // Shed: the server is back to its one watcher.
  client::Connection watcher({server.address(), false, {}});
  testing::hello(watcher);
  std::uint32_t open = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while ((open = open_connections(watcher)) > 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));  // polling the server's count, bounded
  }
  CHECK(open == 1);
  CHECK(server.stop() == 0);
  WARN("hello-less flood: " << timed_out << " of 500 closed with timeout; a bystander had " << bystander.answered
                            << " create+get pairs answered meanwhile, the slowest in " << bystander.worst.count()
                            << " ms");
}

TEST_CASE("out of file descriptors, ledgerd waits for connections to end instead of spinning",
          "[reliability][connections]") {
  raise_open_files(4096);
  TempDir dir;
  // ledgerd inherits a limit of 128 descriptors; the test keeps its own.
  rlimit mine{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &mine) == 0);
  rlimit low = mine;
  low.rlim_cur = 128;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::optional<LedgerdProcess> started;
  try {
    started.emplace(dir.path() / "data", std::vector<std::string>{"--hello-timeout-ms", "20000"});
  } catch (...) {
    setrlimit(RLIMIT_NOFILE, &mine);
    throw;
  }
  REQUIRE(setrlimit(RLIMIT_NOFILE, &mine) == 0);
  auto& server = *started;
  client::Connection watcher({server.address(), false, {}});
  testing::hello(watcher);

  // More connections than ledgerd has descriptors: the rest wait in the listen backlog.
  const auto hello = hello_bytes();
  std::vector<std::unique_ptr<RawConnection>> many;
  for (int i = 0; i < 160; ++i) {
    many.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(many.back()->send(hello));
  }
  // A second of being out of descriptors.
  std::this_thread::sleep_for(milliseconds(1'000));  // the condition lasts; nothing to poll for
  auto count_failures = [&] {
    std::ifstream in(server.log_path());
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find("accept failed") != std::string::npos;
    return n;
  };
  const auto failures = count_failures();
  CHECK(failures > 0);
  CHECK(failures < 100);
  // Those that were accepted are served.
  auto first = many.front()->response(std::chrono::seconds(10));
  REQUIRE(first);
  CHECK(first->get().isWelcome());

  // Once connections end, the waiting ones are accepted and welcomed.
  const std::size_t closing = 100;
  many.erase(many.begin(), many.begin() + closing);
  std::size_t welcomed = 0;
  for (std::size_t i = many.size() - 20; i < many.size(); ++i) {
    auto r = many[i]->response(std::chrono::seconds(10));
    welcomed += r && r->get().isWelcome();
  }
  CHECK(welcomed == 20);
  CHECK(open_connections(watcher) >= 21);
  many.clear();
  CHECK(server.stop() == 0);
  WARN("out of descriptors: " << failures << " failed accepts logged in a second (a busy loop logged over 100,000), "
                              << welcomed << " of the last 20 waiting clients welcomed once others closed");
}

// Bursts of 1,000 connections that each say hello, ask for one customer and close. Each burst
// takes the server to about 1,000 open connections and back to one. The memory a burst used must
// be given back once it is over, not kept for the next: the resident set after the last of 10
// bursts stays within kBurstGrowth of what it was before the first. Without that, it rose from
// 21 MiB to 95 MiB after the first burst and to 139 MiB after the tenth, and stayed there.
TEST_CASE("after 10 bursts of 1,000 connections ledgerd gives the memory back", "[reliability][connections]") {
  // What ledgerd may keep after the bursts: the allocator's caches, the last few connections'
  // memory (it is given back in halves, docs/protocol.md "Memory per connection") and what
  // RocksDB and the log grew by. Measured: 5 to 6 MiB; a burst at its height holds 24 MiB more.
  [[maybe_unused]] constexpr std::size_t kBurstGrowth = 16 * 1024;  // KiB
  // What one open connection may cost at the height of a burst, its share of the allocator's
  // overhead included. Measured: about 24 KiB; 74 KiB while every connection carried TLS state.
  [[maybe_unused]] constexpr std::size_t kPerConnection = 48;  // KiB
  constexpr int kBursts = 10;
  constexpr int kPerBurst = 1000;
  raise_open_files(4096);
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "1100", "--hello-timeout-ms", "20000"});
  client::Connection watcher({server.address(), false, {}});
  testing::hello(watcher);
  const auto hello = hello_bytes();
  const auto get = bytes_of(*testing::request_message(5, [](auto r) { r.initGet().setNumber(424242); }));

  const auto before = resident_kib(server.pid());
  REQUIRE(before > 0);
  std::vector<std::size_t> after_burst;
  std::size_t highest = 0;
  for (int burst = 0; burst < kBursts; ++burst) {
    std::vector<std::unique_ptr<RawConnection>> clients;
    for (int i = 0; i < kPerBurst; ++i) {
      clients.push_back(std::make_unique<RawConnection>(server.port()));
      REQUIRE(clients.back()->send(hello));
      REQUIRE(clients.back()->send(get));
    }
    std::size_t served = 0;
    for (auto& c : clients) {
      auto welcome = c->response(std::chrono::seconds(20));
      auto answer = c->response(std::chrono::seconds(20));
      served += welcome && welcome->get().isWelcome() && answer && answer->get().isError() &&
                answer->get().getError().getCode() == protocol::ErrorCode::NOT_FOUND;
    }
    REQUIRE(served == kPerBurst);
    highest = std::max(highest, resident_kib(server.pid()));
    clients.clear();
    REQUIRE(await_connections(watcher, 1, std::chrono::seconds(20)) == 1);
    after_burst.push_back(resident_kib(server.pid()));
  }
  std::ostringstream figures;
  for (auto kib : after_burst) figures << " " << kib / 1024;
  WARN("resident set of ledgerd: " << before / 1024 << " MiB before, " << highest / 1024
                                   << " MiB at the height of a burst, after each of " << kBursts
                                   << " bursts of " << kPerBurst << " connections (MiB):" << figures.str());
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine and never hands it back: the figures say nothing.
  WARN("built with AddressSanitizer: the resident set is reported, not checked");
#else
  CHECK(highest <= before + kPerBurst * kPerConnection);
  CHECK(after_burst.back() <= before + kBurstGrowth);
#endif
  CHECK(server.stop() == 0);
}
