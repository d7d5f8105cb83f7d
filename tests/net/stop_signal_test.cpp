// Stopping a real ledgerd with more than one signal, as an impatient operator or a service
// manager does: SIGTERM again while it answers what is in flight and closes its data must not
// turn the clean stop into a death by signal.
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "projections/verify.h"
#include "server/outcome.h"
#include "support/temp_dir.h"
#include "support/ledgerd_process.h"
#include "ledger/client/connection.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
using protocol::ErrorCode;

namespace {

std::unique_ptr<capnp::MallocMessageBuilder> create_request(std::uint64_t id, const std::string& name) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto r = message->initRoot<protocol::Request>();
  r.setId(id);
  r.initCreate().initFields().setName(name);
  return message;
}

// True once `pid` has exited; leaves it to be reaped (and its status read) by its parent.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

TEST_CASE("SIGTERM twice and again until it exits: ledgerd finishes its clean stop, exits 0, keeps every acknowledged write",
          "[ledgerd][restart][signals]") {
  TempDir dir;
  std::map<std::uint64_t, std::string> acknowledged;  // number -> name
  std::uint64_t signals_sent = 0;
  {
    LedgerdProcess server(dir.path() / "data");
    client::Connection client({server.address(), false, {}});
    capnp::MallocMessageBuilder hello;
    client::new_request(hello, 1).initHello().setToken("");
    REQUIRE(client.call(hello).get().isWelcome());
    for (std::uint64_t id = 2; id < 12; ++id) {
      auto reply = client.call(*create_request(id, "Before " + std::to_string(id)));
      REQUIRE(reply.get().isWritten());
      acknowledged[reply.get().getWritten().getNumber()] = "Before " + std::to_string(id);
    }

    // In flight when the signals come: creates pipelined on the connection.
    constexpr std::uint64_t kFirst = 100, kCreates = 2000;
    std::vector<capnp::byte> pipelined;
    for (std::uint64_t id = kFirst; id < kFirst + kCreates; ++id) {
      auto words = capnp::messageToFlatArray(*create_request(id, "Flight " + std::to_string(id)));
      pipelined.insert(pipelined.end(), words.asBytes().begin(), words.asBytes().end());
    }
    std::thread sender([&] {
      try {
        client.send_bytes(pipelined.data(), pipelined.size());
      } catch (const client::ConnectionError&) {
        // The server stopped reading and closed: what it did not read it did not do.
      }
    });

    // Two at once as the first answers come, then more until the process is gone, so that
    // one lands in every stage of the stop. No assertion on this thread (Catch2's are not
    // thread-safe); it counts what it sent.
    const pid_t pid = server.pid();
    std::thread signaller;
    std::atomic<std::uint64_t> sent{0};
    std::uint64_t answered = 0, shutting_down = 0, other_errors = 0;
    try {
      for (;;) {
        auto reply = client.receive();
        auto r = reply.get();
        ++answered;
        if (r.isWritten()) {
          acknowledged[r.getWritten().getNumber()] = "Flight " + std::to_string(r.getId());
        } else if (r.isError() && r.getError().getCode() == ErrorCode::SHUTTING_DOWN) {
          ++shutting_down;
        } else {
          ++other_errors;
        }
        if (answered == 1) {
          signaller = std::thread([pid, &sent] {
            kill(pid, SIGTERM);
            kill(pid, SIGTERM);
            sent += 2;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (!has_exited(pid) && std::chrono::steady_clock::now() < deadline) {
              kill(pid, SIGTERM);
              ++sent;
              std::this_thread::yield();
            }
          });
        }
      }
    } catch (const client::ConnectionError&) {
      // ledgerd answered what it had read and closed the connection.
    }
    sender.join();
    REQUIRE(signaller.joinable());
    signaller.join();
    signals_sent = sent;
    INFO("answered " << answered << ", shuttingDown " << shutting_down << ", SIGTERMs sent " << signals_sent);
    CHECK(other_errors == 0);
    CHECK(answered < kCreates);  // the stop came while creates were in flight
    CHECK(server.wait_exit() == 0);
  }
  CHECK(signals_sent > 2);

  // The directory reopens clean: the log, the projections and the remembered outcomes agree.
  {
    auto database = eventstore::Database::open(dir.path() / "data", {});
    auto report = projections::verify_ledger(eventstore::DatabaseReader(*database),
                                             {.digests = true, .read_remembered = server::remembered_write});
    INFO(report.problem);
    CHECK(report.ok);
    CHECK(report.customers >= acknowledged.size());
  }
  LedgerdProcess server(dir.path() / "data");
  client::Connection client({server.address(), false, {}});
  capnp::MallocMessageBuilder hello;
  client::new_request(hello, 1).initHello().setToken("");
  REQUIRE(client.call(hello).get().isWelcome());
  for (const auto& [number, name] : acknowledged) {
    capnp::MallocMessageBuilder get;
    client::new_request(get, 2).initGet().setNumber(number);
    auto reply = client.call(get);
    REQUIRE(reply.get().isCustomer());
    CHECK(std::string(reply.get().getCustomer().getFields().getName().cStr()) == name);
  }
  CHECK(server.stop() == 0);
}
