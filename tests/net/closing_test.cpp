// How ledgerd ends a connection while the client is still sending: the answers it wrote before
// the close, the error frame last, must reach the client, followed by a clean end of file.
// Closing a socket that holds unread bytes makes the kernel reset the connection: it drops the
// answers it has not sent yet (the client's small receive buffer below keeps some waiting),
// and on a real network the client's kernel may drop those it has not handed to the client.
// So each test sends bytes the server will not read as requests, waits for the close to
// happen, and only then reads.
#include <chrono>
#include <csignal>
#include <set>
#include <thread>
#include <vector>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "net/certificate.h"
#include "support/ledgerd_process.h"
#include "net/raw_connection.h"
#include "support/ledger_calls.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::RawConnection;
using ledger::testing::request_message;
using ledger::testing::TempDir;
using protocol::ErrorCode;

namespace {

void append(std::vector<std::uint8_t>& out, capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_hello(std::vector<std::uint8_t>& out) {
  append(out, *request_message(1, [](auto r) { r.initHello().setToken(""); }));
}

// A segment table claiming 2^32 segments: the server answers tooLarge and reads no further.
void append_bad_frame(std::vector<std::uint8_t>& out) { out.insert(out.end(), {0xFF, 0xFF, 0xFF, 0xFF}); }

// 64 KiB the server does not take as requests: unless it drains them, they are still unread
// in its kernel when it closes.
void append_junk(std::vector<std::uint8_t>& out) { out.insert(out.end(), 64 * 1024, 0x5A); }

// Hello, `gets` reads of a number no one holds (ids from 2), a bad frame, then junk.
std::vector<std::uint8_t> gets_then_bad_bytes(std::uint64_t gets) {
  std::vector<std::uint8_t> bytes;
  append_hello(bytes);
  for (std::uint64_t id = 2; id < 2 + gets; ++id) {
    append(bytes, *request_message(id, [](auto r) { r.initGet().setNumber(424242); }));
  }
  append_bad_frame(bytes);
  append_junk(bytes);
  return bytes;
}

// Sends everything at once, then gives the server time to answer and close before reading:
// a reset, if one comes, then arrives before the client has read the answers.
void send_then_wait(RawConnection& raw, const std::vector<std::uint8_t>& bytes) {
  raw.send(bytes);  // may fail part way when the server has closed; what it answered is what counts
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // lets the close happen first, not a condition
}

// The connection's last frame: an error with id 0 and `code`.
void check_last_error(RawConnection& raw, ErrorCode code) {
  auto last = raw.response();
  INFO("the connection was " << (raw.reset() ? "reset" : "not reset") << " before the error frame");
  REQUIRE(last);
  REQUIRE(last->get().isError());
  CHECK(last->get().getId() == 0);
  CHECK(last->get().getError().getCode() == code);
}

void check_clean_end(RawConnection& raw) {
  CHECK(raw.closed_by_server());
  CHECK_FALSE(raw.reset());
}

}  // namespace

// Few bytes of the server's answers fit in the client's kernel while it does not read.
constexpr int kSmallReceiveBuffer = 4096;

TEST_CASE("closing: the answers before bad bytes and the error frame reach a client that goes on sending",
          "[ledgerd][closing]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");

  SECTION("a segment table beyond the limits after 1,000 reads") {
    constexpr std::uint64_t kGets = 1000;
    const auto bytes = gets_then_bad_bytes(kGets);
    RawConnection raw(server.port(), kSmallReceiveBuffer);
    send_then_wait(raw, bytes);
    auto welcome = raw.response();
    INFO("the connection was " << (raw.reset() ? "reset" : "not reset"));
    REQUIRE(welcome);
    CHECK(welcome->get().isWelcome());
    std::set<std::uint64_t> not_found;
    for (std::uint64_t i = 0; i < kGets; ++i) {
      auto answer = raw.response();
      INFO(i << " of the " << kGets << " answers read");
      REQUIRE(answer);
      REQUIRE(answer->get().isError());
      CHECK(answer->get().getError().getCode() == ErrorCode::NOT_FOUND);
      not_found.insert(answer->get().getId());
    }
    CHECK(not_found.size() == kGets);
    check_last_error(raw, ErrorCode::TOO_LARGE);
    check_clean_end(raw);
  }
  SECTION("a request before hello") {
    std::vector<std::uint8_t> bytes;
    append(bytes, *request_message(5, [](auto r) { r.initGet().setNumber(1); }));
    append_junk(bytes);
    RawConnection raw(server.port());
    send_then_wait(raw, bytes);
    auto refused = raw.response();
    INFO("the connection was " << (raw.reset() ? "reset" : "not reset") << " before the refusal");
    REQUIRE(refused);
    REQUIRE(refused->get().isError());
    CHECK(refused->get().getError().getCode() == ErrorCode::UNAUTHENTICATED);
    check_clean_end(raw);
  }
  CHECK(server.running());
  CHECK(server.stop() == 0);
}

TEST_CASE("closing: every pipelined create before the bad frame is answered, then the error, then the end",
          "[ledgerd][closing]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  constexpr std::uint64_t kCreates = 300;
  std::vector<std::uint8_t> bytes;
  append_hello(bytes);
  for (std::uint64_t id = 2; id < 2 + kCreates; ++id) {
    append(bytes, *testing::create_message(id, "pipelined-" + std::to_string(id), "Pipelined " + std::to_string(id)));
  }
  append_bad_frame(bytes);
  append_junk(bytes);
  RawConnection raw(server.port(), kSmallReceiveBuffer);
  send_then_wait(raw, bytes);

  // The creates are answered as their group commits become durable, so the error frame may
  // come before some of them; every one of them comes before the end.
  std::set<std::uint64_t> written;
  bool welcomed = false, too_large = false;
  while (auto response = raw.response()) {
    auto r = response->get();
    if (r.isWelcome()) {
      welcomed = true;
    } else if (r.isWritten()) {
      CHECK(written.insert(r.getId()).second);
    } else {
      REQUIRE(r.isError());
      CHECK(r.getId() == 0);
      CHECK(r.getError().getCode() == ErrorCode::TOO_LARGE);
      too_large = true;
    }
  }
  INFO("the connection was " << (raw.reset() ? "reset" : "not reset"));
  CHECK(welcomed);
  CHECK(written.size() == kCreates);
  CHECK(too_large);
  check_clean_end(raw);

  // Each answered create is there.
  client::Connection client({server.address(), false, {}});
  testing::hello(client);
  auto stats = client.call(*request_message(3, [](auto r) { r.setStats(); }));
  REQUIRE(stats.get().isStats());
  CHECK(stats.get().getStats().getActive() == kCreates);
  CHECK(server.stop() == 0);
}

TEST_CASE("closing: with TLS too, the answers before bad bytes and the error frame reach the client",
          "[ledgerd][closing][tls]") {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  const auto key = (dir.path() / "key.pem").string();
  REQUIRE(testing::make_certificate(cert, key));
  LedgerdProcess server(dir.path() / "data", {"--tls-cert", cert, "--tls-key", key});
  constexpr std::uint64_t kGets = 5000;  // their answers are more than the client's kernel holds
  const auto bytes = gets_then_bad_bytes(kGets);
  client::Connection client({server.address(), true, cert});
  try {
    client.send_bytes(bytes.data(), bytes.size());
  } catch (const client::ConnectionError&) {
    // The server closed before reading everything; what it answered is what counts.
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // lets the close happen first, not a condition

  std::size_t welcomed = 0, not_found = 0, too_large = 0;
  try {
    for (;;) {
      auto reply = client.receive();
      auto r = reply.get();
      welcomed += r.isWelcome();
      not_found += r.isError() && r.getError().getCode() == ErrorCode::NOT_FOUND;
      too_large += r.isError() && r.getError().getCode() == ErrorCode::TOO_LARGE && r.getId() == 0;
    }
  } catch (const client::ConnectionError&) {
    // The end of the connection.
  }
  CHECK(welcomed == 1);
  CHECK(not_found == kGets);
  CHECK(too_large == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("closing: beyond the connection limit a client that sent its hello still reads busy", "[ledgerd][closing]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "1"});
  client::Connection holder({server.address(), false, {}});
  testing::hello(holder);

  std::vector<std::uint8_t> bytes;
  append_hello(bytes);
  append_junk(bytes);
  RawConnection refused(server.port());
  send_then_wait(refused, bytes);
  check_last_error(refused, ErrorCode::BUSY);
  check_clean_end(refused);
  CHECK(server.stop() == 0);
}

TEST_CASE("closing: on SIGTERM a client that keeps its connection open does not hold the server",
          "[ledgerd][closing]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  std::vector<std::uint8_t> bytes;
  append_hello(bytes);
  RawConnection raw(server.port());
  raw.send(bytes);
  auto welcome = raw.response();
  REQUIRE(welcome);
  REQUIRE(welcome->get().isWelcome());
  // The client reads the end of the connection but never closes its own side: the server waits
  // for that a short while only, then exits.
  server.send_signal(SIGTERM);
  CHECK(raw.closed_by_server());
  CHECK(server.wait_exit() == 0);
}
