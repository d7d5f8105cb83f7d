// Attacks on the tokens file against a real ledgerd: a clerk's hash copied onto an admin line, the
// empty token's hash, and a file anyone may write (so anyone may add an admin). Each one made
// ledgerd start and let the attacker in; now ledgerd refuses to start and its message names the
// file, the line(s) and what to do. A file anyone may read starts, with a warning.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "support/ledgerd_process.h"
#include "support/ledger_calls.h"
#include "server/tokens.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const auto kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

void write_tokens(const fs::path& file, const std::string& text, fs::perms mode) {
  std::ofstream(file) << text;
  fs::permissions(file, mode, fs::perm_options::replace);
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Starts ledgerd on `tokens`; returns what it wrote to its log when it did not start, and
// stops the test when it did.
std::string refusal_of(const TempDir& dir, const fs::path& tokens) {
  const auto data = dir.path() / "data";
  CHECK_THROWS(LedgerdProcess(data, {"--tokens", tokens.string()}));
  return read_all(data.string() + ".log");
}

}  // namespace

TEST_CASE("ledgerd refuses a tokens file with a clerk's hash also on an admin line", "[reliability][tokens]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  const auto hash = server::token_hash_hex("till-token");
  write_tokens(tokens, "till clerk " + hash + "\n# added later\nboss admin " + hash + "\n", kOwnerOnly);
  const auto log = refusal_of(dir, tokens);
  INFO(log);
  CHECK(log.find(tokens.string() + ":3: boss (admin) has the same hash as line 1, till (clerk)") !=
        std::string::npos);
  CHECK(log.find("a token of its own") != std::string::npos);
}

TEST_CASE("ledgerd refuses a tokens file with the empty token's hash", "[reliability][tokens]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  write_tokens(tokens, "anyone admin " + server::token_hash_hex("") + "\n", kOwnerOnly);
  const auto log = refusal_of(dir, tokens);
  INFO(log);
  CHECK(log.find(tokens.string() + ":1: anyone has the hash of the empty token") != std::string::npos);
}

TEST_CASE("ledgerd refuses a tokens file anyone may write, and warns of one anyone may read",
          "[reliability][tokens]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  const auto text = "till clerk " + server::token_hash_hex("till-token") + "\n";
  write_tokens(tokens, text, kOwnerOnly | fs::perms::others_read | fs::perms::others_write);
  const auto log = refusal_of(dir, tokens);
  INFO(log);
  CHECK(log.find("tokens file " + tokens.string() + " is writable by everyone (mode 0606)") != std::string::npos);
  CHECK(log.find("chmod go-w " + tokens.string()) != std::string::npos);

  write_tokens(tokens, text, kOwnerOnly | fs::perms::others_read);
  LedgerdProcess server(dir.path() / "readable", {"--tokens", tokens.string()});
  client::Connection client({server.address(), false, {}});
  auto hello = testing::request_message(1, [](auto r) { r.initHello().setToken("till-token"); });
  auto welcome = client.call(*hello);
  REQUIRE(welcome.get().isWelcome());
  CHECK(welcome.get().getWelcome().getRole() == protocol::Role::CLERK);
  CHECK(server.stop() == 0);
  CHECK(read_all(server.log_path()).find("is readable by everyone (mode 0604)") != std::string::npos);
}
