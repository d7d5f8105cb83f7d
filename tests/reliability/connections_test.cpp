// Many and misbehaving connections against a real ledgerd: 1,000 held at once and all served;
// 100 slow-loris clients that dribble a frame byte by byte, which must not hold up another
// client beyond the deadlines and must be closed by the frame deadline; and a flood of
// connections that never say hello, shed at the hello deadline while the server keeps serving.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <thread>

#include <sys/resource.h>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "net/ledgerd_process.h"
#include "net/raw_connection.h"
#include "reliability/ledger_calls.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::RawConnection;
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

std::vector<std::uint8_t> bytes_of(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

std::vector<std::uint8_t> hello_bytes() {
  return bytes_of(*testing::request_message(1, [](auto r) { r.initHello().setToken(""); }));
}

std::uint32_t open_connections(tools::LedgerClient& client) {
  auto reply = client.call(*testing::request_message(3, [](auto r) { r.setStats(); }));
  REQUIRE(reply.get().isStats());
  return reply.get().getStats().getConnections();
}

// A client timing its own requests (a create, then a get of it) while others misbehave.
struct Bystander {
  std::atomic<bool> stop{false};
  std::uint64_t answered = 0, refused = 0;
  milliseconds worst{0};

  void run(const std::string& address, milliseconds max_duration) {
    tools::LedgerClient client({address, false, {}});
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

  tools::LedgerClient watcher({server.address(), false, {}});
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
  tools::LedgerClient watcher({server.address(), false, {}});
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
  tools::LedgerClient watcher({server.address(), false, {}});
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
