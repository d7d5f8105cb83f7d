// TLS: ledgerd with a certificate and key speaks TLS, and ledgerctl verifies it with the CA;
// beyond the connection limit a TLS client still reads why it was refused.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "net/certificate.h"
#include "support/ledgerd_process.h"
#include "net/raw_connection.h"
#include "support/temp_dir.h"
#include "ledger/client/connection.h"

using ledger::testing::LedgerdProcess;
using ledger::testing::make_certificate;
using ledger::testing::TempDir;

namespace {

// ledgerd with a fresh self-signed certificate for localhost, and `extra` arguments.
struct TlsServer {
  explicit TlsServer(std::vector<std::string> extra) {
    REQUIRE(make_certificate(cert, key));
    std::vector<std::string> args{"--tls-cert", cert, "--tls-key", key};
    args.insert(args.end(), extra.begin(), extra.end());
    server.emplace(dir.path() / "data", args);
  }
  TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  std::optional<LedgerdProcess> server;
};

}  // namespace

TEST_CASE("TLS: a verified client is served, a plain client is not", "[ledgerd][tls]") {
  TlsServer tls({"--hello-timeout-ms", "1000"});
  auto& server = *tls.server;
  const auto& cert = tls.cert;

  const std::string command = "'" LEDGERCTL_PATH "' --server " + server.address() + " --tls-ca '" + cert +
                              "' --json create --name Secure </dev/null 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 512> buffer{};
  std::string out(buffer.data(), fread(buffer.data(), 1, buffer.size(), pipe));
  CHECK(WEXITSTATUS(pclose(pipe)) == 0);
  CHECK(out == "{\"number\":1,\"id\":1,\"revision\":1}\n");

  // A client without TLS gets no answer it can read, and the server goes on.
  ledger::client::Connection plain({server.address(), false, {}});
  capnp::MallocMessageBuilder hello;
  ledger::client::new_request(hello).initHello();
  CHECK_THROWS_AS(plain.call(hello), ledger::client::ConnectionError);
  CHECK(server.running());
  CHECK(server.stop() == 0);
}

TEST_CASE("TLS: beyond the connection limit a client completes the handshake and reads busy", "[ledgerd][tls]") {
  TlsServer tls({"--max-connections", "1"});
  auto& server = *tls.server;
  const auto& cert = tls.cert;

  {
    ledger::client::Connection held({server.address(), true, cert});
    capnp::MallocMessageBuilder hello;
    ledger::client::new_request(hello).initHello();
    REQUIRE(held.call(hello).get().isWelcome());

    ledger::client::Connection extra({server.address(), true, cert});  // the handshake succeeds
    auto refused = extra.receive();
    REQUIRE(refused.get().isError());
    CHECK(refused.get().getId() == 0);
    CHECK(refused.get().getError().getCode() == ledger::protocol::ErrorCode::BUSY);
    CHECK_THROWS_AS(extra.receive(), ledger::client::ConnectionError);  // then it is closed

    // The held connection is still served.
    capnp::MallocMessageBuilder list;
    ledger::client::new_request(list, 2).initList();
    CHECK(held.call(list).get().isPage());
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("TLS: a client silent in the handshake is closed at the hello deadline, and others are served", "[ledgerd][tls]") {
  TlsServer tls({"--hello-timeout-ms", "300"});
  auto& server = *tls.server;
  const auto& cert = tls.cert;

  // One says nothing, one sends the start of a TLS record and stops: neither finishes the
  // handshake, so no error frame can reach them; the server closes both at the deadline, not
  // after the 5 s it allows a client that has a last answer to read.
  ledger::testing::RawConnection silent(server.port());
  ledger::testing::RawConnection partial(server.port());
  const std::uint8_t record_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  REQUIRE(partial.send(record_start, sizeof record_start));
  CHECK(silent.closed_by_server(std::chrono::seconds(3)));
  CHECK(partial.closed_by_server(std::chrono::seconds(3)));

  ledger::client::Connection client({server.address(), true, cert});
  capnp::MallocMessageBuilder hello;
  ledger::client::new_request(hello).initHello();
  CHECK(client.call(hello).get().isWelcome());
  CHECK(server.running());
  CHECK(server.stop() == 0);
}
