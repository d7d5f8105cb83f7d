// The C++ client (clients/cpp) against a real ledgerd on a loopback port: pipelining on one
// connection, refusals as values, TLS, and commands sent again with their request key after a
// broken connection or busy.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/client/client.h"
#include "ledger/client/connection.h"
#include "ledger/client/frame_reader.h"
#include "net/breaking_proxy.h"
#include "net/certificate.h"
#include "support/frame_bytes.h"
#include "support/ledger_calls.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
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

client::RequestFill create_numbered(const std::string& name, std::uint64_t number) {
  return [name, number](protocol::Request::Builder r) {
    auto create = r.initCreate();
    create.setNumber(number);
    create.initFields().setName(name);
  };
}

// A Connection that has said hello.
std::unique_ptr<client::Connection> connected(const client::ConnectOptions& options) {
  auto connection = std::make_unique<client::Connection>(options);
  testing::hello(*connection);
  return connection;
}

std::uint64_t open_connections(client::Client& ledger) {
  auto reply = ledger.call([](auto r) { r.setStats(); });
  REQUIRE(reply.get().isStats());
  return reply.get().getStats().getConnections();
}

}  // namespace

TEST_CASE("Client: many requests in flight on one connection, each answer matched by its id", "[client]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Client ledger(at(server.address()));
  REQUIRE_FALSE(ledger.refused());
  CHECK(ledger.principal() == "local");

  constexpr int kRequests = 200;
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < kRequests; ++i) {
    const auto key = client::new_request_key();
    ids.push_back(ledger.send([&](protocol::Request::Builder r) {
      r.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
      r.initCreate().initFields().setName("Customer " + std::to_string(i));
    }));
  }
  CHECK(std::set<std::uint64_t>(ids.begin(), ids.end()).size() == kRequests);
  std::set<std::uint64_t> answered, numbers;
  for (int i = 0; i < kRequests; ++i) {
    auto reply = ledger.receive();
    REQUIRE(reply.get().isWritten());
    answered.insert(reply.get().getId());
    numbers.insert(reply.get().getWritten().getNumber());
  }
  CHECK(answered == std::set<std::uint64_t>(ids.begin(), ids.end()));
  CHECK(numbers.size() == kRequests);

  // Queued, then written together: numbered after the ones sent, each answered once.
  std::set<std::uint64_t> queued;
  for (int i = 0; i < 20; ++i) queued.insert(ledger.queue(create("Queued " + std::to_string(i))));
  CHECK(*queued.begin() > *std::max_element(ids.begin(), ids.end()));
  ledger.flush();
  answered.clear();
  for (int i = 0; i < 20; ++i) {
    auto reply = ledger.receive();
    REQUIRE(reply.get().isWritten());
    answered.insert(reply.get().getId());
  }
  CHECK(answered == queued);
  CHECK_FALSE(ledger.reply_buffered());
  CHECK(open_connections(ledger) == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("Connection: queued requests go out together on flush, before a later send, each answered by id",
          "[client]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::ConnectOptions options;
  options.server = server.address();
  auto connection = connected(options);

  // Commands of one connection are decided in the order their bytes arrive: the queued create
  // takes number 777, and the one sent after it is refused the number.
  auto first = testing::request_message(10, create_numbered("Queued first", 777));
  connection->queue(*first);
  auto second = testing::request_message(11, create_numbered("Sent second", 777));
  connection->send(*second);
  std::set<std::uint64_t> written, refused;
  for (int i = 0; i < 2; ++i) {
    auto reply = connection->receive();
    (reply.get().isWritten() ? written : refused).insert(reply.get().getId());
  }
  CHECK(written == std::set<std::uint64_t>{10});
  CHECK(refused == std::set<std::uint64_t>{11});
  auto get = testing::request_message(12, [](protocol::Request::Builder r) { r.initGet().setNumber(777); });
  auto held = connection->call(*get);
  REQUIRE(held.get().isCustomer());
  CHECK(std::string(held.get().getCustomer().getFields().getName().cStr()) == "Queued first");

  // A client keeping eight creates in flight that sends the replacements for answers read
  // together in one write, as ledger-bench does: every command answered once, none left over.
  constexpr std::uint64_t kCreates = 300, kInFlight = 8;
  std::uint64_t next_id = 100, queued = 0;
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> kept;
  auto queue_one = [&] {
    kept.push_back(testing::request_message(next_id, create("Pipelined " + std::to_string(next_id))));
    connection->queue(*kept.back());
    ++next_id;
    ++queued;
  };
  while (queued < kInFlight) queue_one();
  connection->flush();
  std::set<std::uint64_t> answered;
  for (std::uint64_t received = 0; received < kCreates; ++received) {
    auto reply = connection->receive();
    REQUIRE(reply.get().isWritten());
    answered.insert(reply.get().getId());
    if (queued < kCreates) queue_one();
    if (!connection->reply_buffered()) connection->flush();
  }
  CHECK(answered.size() == kCreates);
  CHECK(*answered.begin() == 100);
  CHECK(*answered.rbegin() == 100 + kCreates - 1);
  CHECK_FALSE(connection->reply_buffered());
  connection->flush();  // nothing queued: writes nothing
  auto stats = testing::request_message(13, [](protocol::Request::Builder r) { r.setStats(); });
  auto after = connection->call(*stats);
  REQUIRE(after.get().isStats());
  CHECK(after.get().getStats().getActive() == kCreates + 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("FrameReader::holds_frame: a whole frame, not a part of one, and tables it refuses", "[client]") {
  capnp::MallocMessageBuilder message;
  client::new_request(message, 7).initCreate().initFields().setName("Someone");
  const auto frame = testing::bytes_of(message);
  auto holds = [](const std::vector<std::uint8_t>& bytes, std::size_t size) {
    return client::FrameReader::holds_frame(bytes.data(), size);
  };
  CHECK_FALSE(holds(frame, 0));
  CHECK_FALSE(holds(frame, 3));
  CHECK_FALSE(holds(frame, 8));
  CHECK_FALSE(holds(frame, frame.size() - 1));
  CHECK(holds(frame, frame.size()));
  auto two = frame;
  two.insert(two.end(), frame.begin(), frame.begin() + 5);
  CHECK(holds(two, two.size()));  // the first is whole; the second's part does not matter

  // Tables parse() refuses hold a "frame" as far as the caller is concerned: reading it reports why.
  const auto many = testing::u32s({512, 0});  // 512 + 1 segments
  CHECK(holds(many, many.size()));
  const auto huge = testing::u32s({0, 1u << 28});  // one segment of 2^28 words
  CHECK(holds(huge, huge.size()));
  auto small = testing::u32s({0, 2});  // one segment of 2 words, 3 of its 16 bytes there
  small.insert(small.end(), {1, 2, 3});
  CHECK_FALSE(holds(small, small.size()));
  CHECK(client::FrameReader::holds_frame(small.data(), small.size(), {.max_bytes = 16}));
}

TEST_CASE("Client: a field the ledger refuses comes back as a typed refusal naming the field", "[client]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Client ledger(at(server.address()));
  auto reply = ledger.command(client::new_request_key(), [](protocol::Request::Builder r) {
    auto fields = r.initCreate().initFields();
    fields.setName("Ada");
    fields.setEmail("not an address");
  });
  const auto refusal = reply.refusal();
  REQUIRE(refusal);
  CHECK(refusal->code == protocol::ErrorCode::INVALID_FIELD);
  CHECK(refusal->field == "email");
  CHECK(client::code_name(refusal->code) == "invalidField");
  CHECK_THAT(refusal->describe(), Catch::Contains("(field: email)"));

  auto missing = ledger.call([](auto r) { r.initDelete().initNumbers(1).set(0, 7); });
  REQUIRE(missing.refusal());
  REQUIRE(missing.refusal()->numbers.size() == 1);
  CHECK(missing.refusal()->numbers[0].number == 7);
  CHECK(missing.refusal()->numbers[0].code == protocol::ErrorCode::NOT_FOUND);
  CHECK_FALSE(ledger.call([](auto r) { r.setStats(); }).refusal());
  CHECK(server.stop() == 0);
}

TEST_CASE("Client: over TLS, verifying the server with its certificate", "[client][tls]") {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  const auto key = (dir.path() / "key.pem").string();
  REQUIRE(testing::make_certificate(cert, key));
  LedgerdProcess server(dir.path() / "data", {"--tls-cert", cert, "--tls-key", key});

  auto options = at(server.address());
  options.connect.tls = true;
  options.connect.tls_ca = cert;
  client::Client ledger(options);
  REQUIRE_FALSE(ledger.refused());
  auto reply = ledger.command(client::new_request_key(), create("Secure"));
  REQUIRE(reply.get().isWritten());
  CHECK(reply.get().getWritten().getNumber() == 1);

  // Requests queued on a TLS connection go out in one write too.
  auto connection = connected(options.connect);
  auto second = testing::request_message(20, create("Queued over TLS"));
  auto third = testing::request_message(21, create("Queued over TLS too"));
  connection->queue(*second);
  connection->queue(*third);
  connection->flush();
  std::set<std::uint64_t> written;
  for (int i = 0; i < 2; ++i) {
    auto queued = connection->receive();
    REQUIRE(queued.get().isWritten());
    written.insert(queued.get().getId());
  }
  CHECK(written == std::set<std::uint64_t>{20, 21});
  connection.reset();

  // Verifying against a certificate the server does not hold fails before anything is sent.
  const auto other_cert = (dir.path() / "other.pem").string();
  REQUIRE(testing::make_certificate(other_cert, (dir.path() / "other-key.pem").string()));
  options.connect.tls_ca = other_cert;
  CHECK_THROWS_AS(client::Client(options), client::CannotConnect);
  CHECK(server.stop() == 0);
}

TEST_CASE("Client: a command whose answer is lost with the connection is sent again with the same key",
          "[client][retry]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");

  SECTION("the retry gets the first outcome, and the command was done once") {
    BreakingProxy proxy(server.port(), 1);  // the welcome passes; the create's answer is lost
    auto options = at(proxy.address());
    std::vector<client::RetryNotice> notices;
    options.on_retry = [&](const client::RetryNotice& notice) { notices.push_back(notice); };
    client::Client ledger(options);
    const auto key = client::new_request_key();
    auto reply = ledger.command(key, create("Ada"));
    CHECK(proxy.broke());
    CHECK(proxy.connections() == 2);
    REQUIRE(reply.get().isWritten());
    CHECK(reply.get().getWritten().getNumber() == 1);
    CHECK(reply.get().getWritten().getReplayed());  // the server had seen this key
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].why == client::RetryNotice::Why::kConnectionBroke);
    CHECK(notices[0].next_attempt == 2);

    client::Client direct(at(server.address()));
    auto list = direct.call([](auto r) { r.initList(); });
    CHECK(list.get().getPage().getCustomers().size() == 1);
  }
  SECTION("every try breaks: the tries are bounded, and the key finishes the job once") {
    BreakingProxy proxy(server.port(), 1, /*every_connection=*/true);
    auto options = at(proxy.address());
    options.retry.attempts = 3;
    client::Client ledger(options);
    const auto key = client::new_request_key();
    try {
      ledger.command(key, create("Ada"));
      FAIL("no exception");
    } catch (const client::RetriesExhausted& e) {
      CHECK(e.attempts() == 3);
      CHECK_THAT(e.what(), Catch::Contains("gave up after 3 tries"));
    }
    CHECK(proxy.connections() == 3);
    client::Client direct(at(server.address()));
    auto finished = direct.command(key, create("Ada"));
    REQUIRE(finished.get().isWritten());
    CHECK(finished.get().getWritten().getReplayed());
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("Client: a command refused busy (too many connections) is sent again once there is room",
          "[client][retry]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "1"});
  auto holder = std::make_unique<client::Client>(at(server.address()));
  REQUIRE_FALSE(holder->refused());

  SECTION("the hello is refused busy") {
    client::Client refused(at(server.address()));
    REQUIRE(refused.refused());
    CHECK(refused.refused()->refusal()->code == protocol::ErrorCode::BUSY);
  }
  SECTION("command() waits it out, with bounded tries") {
    // The first try is refused busy; the holder then leaves, and a later try gets in.
    auto options = at(server.address());
    options.retry.attempts = 10;
    options.retry.max_pause = std::chrono::milliseconds(200);
    std::vector<client::RetryNotice> notices;
    options.on_retry = [&](const client::RetryNotice& notice) {
      notices.push_back(notice);
      holder.reset();
    };
    client::Client ledger(options);
    REQUIRE(ledger.refused());
    auto reply = ledger.command(client::new_request_key(), create("Ada"));
    REQUIRE(reply.get().isWritten());
    CHECK_FALSE(reply.get().getWritten().getReplayed());
    REQUIRE_FALSE(notices.empty());
    CHECK(notices[0].why == client::RetryNotice::Why::kHelloRefused);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("RetryPolicy: the pause doubles from the first up to the cap, and what is retried", "[client][retry]") {
  using std::chrono::milliseconds;
  const client::RetryPolicy policy;  // the defaults docs/clients.md gives
  CHECK(policy.attempts == 5);
  CHECK(policy.pause_before(2) == milliseconds(250));
  CHECK(policy.pause_before(3) == milliseconds(500));
  CHECK(policy.pause_before(5) == milliseconds(2000));
  CHECK(policy.pause_before(30) == milliseconds(8000));
  CHECK(client::is_retryable(protocol::ErrorCode::BUSY));
  CHECK(client::is_retryable(protocol::ErrorCode::SHUTTING_DOWN));
  CHECK_FALSE(client::is_retryable(protocol::ErrorCode::INVALID_FIELD));
  CHECK_FALSE(client::is_retryable(protocol::ErrorCode::REQUEST_KEY_REUSED));
  CHECK_FALSE(client::is_retryable(protocol::ErrorCode::TIMEOUT));
}
