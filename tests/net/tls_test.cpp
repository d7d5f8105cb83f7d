// TLS: ledgerd with a certificate and key speaks TLS, and ledgerctl verifies it with the CA.
#include <array>
#include <cstdio>
#include <cstdlib>

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "net/ledgerd_process.h"
#include "support/temp_dir.h"
#include "tools/ledgerctl_client.h"

using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

TEST_CASE("TLS: a verified client is served, a plain client is not", "[ledgerd][tls]") {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  const auto key = (dir.path() / "key.pem").string();
  const std::string make_cert = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                                "-subj /CN=localhost -days 1 -keyout '" + key + "' -out '" + cert +
                                "' >/dev/null 2>&1";
  REQUIRE(std::system(make_cert.c_str()) == 0);
  LedgerdProcess server(dir.path() / "data", {"--tls-cert", cert, "--tls-key", key, "--hello-timeout-ms", "1000"});

  const std::string command = "'" LEDGERCTL_PATH "' --server " + server.address() + " --tls-ca '" + cert +
                              "' --json create --name Secure </dev/null 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 512> buffer{};
  std::string out(buffer.data(), fread(buffer.data(), 1, buffer.size(), pipe));
  CHECK(WEXITSTATUS(pclose(pipe)) == 0);
  CHECK(out == "{\"number\":1,\"id\":1,\"revision\":1}\n");

  // A client without TLS gets no answer it can read, and the server goes on.
  ledger::tools::LedgerClient plain({server.address(), false, {}});
  capnp::MallocMessageBuilder hello;
  ledger::tools::new_request(hello).initHello();
  CHECK_THROWS_AS(plain.call(hello), ledger::tools::ConnectionError);
  CHECK(server.running());
  CHECK(server.stop() == 0);
}
