// The C++ client's asynchronous API (AsyncClient) against a real ledgerd: requests pipelined
// on one connection from one thread, a refusal as a value, TLS, and a command sent again with
// its key after the connection broke.
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include "ledger/client/async_client.h"
#include "net/breaking_proxy.h"
#include "net/certificate.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
namespace asio = boost::asio;
using ledger::testing::BreakingProxy;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

namespace {

client::Options at(const std::string& address) {
  client::Options options;
  options.connect.server = address;
  options.retry.first_pause = std::chrono::milliseconds(10);
  return options;
}

client::RequestFill create(const std::string& name) {
  return [name](protocol::Request::Builder r) { r.initCreate().initFields().setName(name); };
}

// Runs `body` on a fresh io_context until it and everything it started are done; rethrows what
// it threw.
void run(asio::awaitable<void> (*body)(asio::any_io_executor, client::Options), const client::Options& options) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io.get_executor(), options), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

asio::awaitable<void> tls_and_refusals(asio::any_io_executor executor, client::Options options) {
  client::AsyncClient ledger(executor, options);
  auto welcome = co_await ledger.async_connect(asio::use_awaitable);
  CHECK(welcome.get().isWelcome());
  CHECK(ledger.principal() == "local");
  auto refused = co_await ledger.async_call(
      [](protocol::Request::Builder r) { r.initEdit().initChanges(1)[0].setValue(""); }, asio::use_awaitable);
  REQUIRE(refused.refusal());
  CHECK(refused.refusal()->code != protocol::ErrorCode::INTERNAL);
  auto invalid = co_await ledger.async_command(
      client::new_request_key(), [](protocol::Request::Builder r) { r.initCreate().initFields().setName(""); },
      asio::use_awaitable);
  REQUIRE(invalid.refusal());
  CHECK(invalid.refusal()->code == protocol::ErrorCode::INVALID_FIELD);
  CHECK(invalid.refusal()->field == "name");
  ledger.close();
  // Closed is closed: a command neither connects again nor is retried.
  bool failed = false;
  try {
    co_await ledger.async_command(client::new_request_key(), create("Late"), asio::use_awaitable);
  } catch (const client::RetriesExhausted&) {
  } catch (const client::ConnectionError&) {
    failed = true;
  }
  CHECK(failed);
}

asio::awaitable<void> create_through_breaking_proxy(asio::any_io_executor executor, client::Options options) {
  client::AsyncClient ledger(executor, options);
  co_await ledger.async_connect(asio::use_awaitable);
  auto reply = co_await ledger.async_command(client::new_request_key(), create("Ada"), asio::use_awaitable);
  REQUIRE(reply.get().isWritten());
  CHECK(reply.get().getWritten().getNumber() == 1);
  CHECK(reply.get().getWritten().getReplayed());
  ledger.close();
}

}  // namespace

TEST_CASE("AsyncClient: requests in flight together on one connection each get their own answer",
          "[client][async]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  asio::io_context io;
  client::AsyncClient ledger(io.get_executor(), at(server.address()));
  std::set<std::uint64_t> numbers;
  std::vector<std::string> failures;
  std::uint32_t connections = 0;
  ledger.async_connect([&](std::exception_ptr e, client::Reply welcome) {
    if (e || !welcome.get().isWelcome()) {
      failures.push_back("no welcome");
      return;
    }
    // Issued together, before any answer: the writer keeps them in flight at once.
    constexpr int kRequests = 100;
    auto left = std::make_shared<int>(kRequests);
    for (int i = 0; i < kRequests; ++i) {
      ledger.async_command(client::new_request_key(), create("Customer " + std::to_string(i)),
                           [&, left, i](std::exception_ptr e, client::Reply reply) {
                             if (e || !reply.get().isWritten()) {
                               failures.push_back("create " + std::to_string(i));
                             } else {
                               numbers.insert(reply.get().getWritten().getNumber());
                             }
                             if (--*left > 0) return;
                             ledger.async_call([](auto r) { r.setStats(); },
                                               [&](std::exception_ptr e, client::Reply stats) {
                                                 if (!e && stats.get().isStats()) {
                                                   connections = stats.get().getStats().getConnections();
                                                 }
                                                 ledger.close();
                                               });
                           });
    }
  });
  io.run();
  CHECK(failures.empty());
  CHECK(numbers.size() == 100);
  CHECK(connections == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("AsyncClient: a refusal is a reply, over TLS, and a lost answer is sent again with its key",
          "[client][async][tls][retry]") {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  const auto key = (dir.path() / "key.pem").string();
  REQUIRE(testing::make_certificate(cert, key));

  SECTION("TLS, and a field refusal") {
    LedgerdProcess server(dir.path() / "data", {"--tls-cert", cert, "--tls-key", key});
    auto options = at(server.address());
    options.connect.tls = true;
    options.connect.tls_ca = cert;
    run(tls_and_refusals, options);
    CHECK(server.stop() == 0);
  }
  SECTION("a broken connection") {
    LedgerdProcess server(dir.path() / "data");
    BreakingProxy proxy(server.port(), 1);  // the welcome passes; the create's answer is lost
    run(create_through_breaking_proxy, at(proxy.address()));
    CHECK(proxy.connections() == 2);
    CHECK(server.stop() == 0);
  }
}
