// The tokens file loader: who gets in with which role, and the files it refuses because they
// would let someone in who should not be (a hash on two lines, the empty token's hash, a file
// others may write), each with a message that names the file, the lines and what to do.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "server/tokens.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Writes `text` to `file` with exactly `mode` (the umask does not apply).
void write_tokens(const fs::path& file, const std::string& text, fs::perms mode = fs::perms::owner_read |
                                                                                     fs::perms::owner_write) {
  std::ofstream(file) << text;
  fs::permissions(file, mode, fs::perm_options::replace);
}

std::string line(const std::string& name, const std::string& role, const std::string& token) {
  return name + " " + role + " " + server::token_hash_hex(token) + "\n";
}

}  // namespace

TEST_CASE("tokens file: each token logs in as its own principal", "[tokens]") {
  TempDir dir;
  const auto file = dir.path() / "tokens";
  write_tokens(file, "# name role sha256(token)\n\n" + line("till", "clerk", "clerk-secret") +
                         line("root", "admin", "admin-secret"));
  std::vector<std::string> warnings;
  auto table = server::TokenTable::load(file, &warnings);
  REQUIRE(table.ok());
  CHECK(warnings.empty());
  auto till = table->authenticate("clerk-secret");
  REQUIRE(till);
  CHECK(till->name == "till");
  CHECK(till->role == server::Role::kClerk);
  auto root = table->authenticate("admin-secret");
  REQUIRE(root);
  CHECK(root->role == server::Role::kAdmin);
  CHECK_FALSE(table->authenticate("guess"));
  CHECK_FALSE(table->authenticate(""));
}

TEST_CASE("tokens file: one hash on a clerk line and an admin line is refused, naming both lines", "[tokens]") {
  TempDir dir;
  const auto file = dir.path() / "tokens";
  write_tokens(file, "# the desk\n" + line("till", "clerk", "shared") + line("ida", "auditor", "other") +
                         line("root", "admin", "shared"));
  auto table = server::TokenTable::load(file);
  REQUIRE_FALSE(table.ok());
  INFO(table.error());
  CHECK(table.error().find(file.string() + ":4:") == 0);
  CHECK(table.error().find("root (admin)") != std::string::npos);
  CHECK(table.error().find("line 2, till (clerk)") != std::string::npos);
  CHECK(table.error().find("a token of its own") != std::string::npos);

  SECTION("also when the hex digits differ only in case") {
    auto upper = server::token_hash_hex("shared");
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    write_tokens(file, line("till", "clerk", "shared") + "root admin " + upper + "\n");
    auto again = server::TokenTable::load(file);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().find("line 1, till (clerk)") != std::string::npos);
  }
}

TEST_CASE("tokens file: the hash of the empty token is refused", "[tokens]") {
  TempDir dir;
  const auto file = dir.path() / "tokens";
  write_tokens(file, line("till", "clerk", "clerk-secret") + line("nobody", "admin", ""));
  auto table = server::TokenTable::load(file);
  REQUIRE_FALSE(table.ok());
  INFO(table.error());
  CHECK(table.error().find(file.string() + ":2:") == 0);
  CHECK(table.error().find("empty token") != std::string::npos);
  CHECK(table.error().find("ledgerctl hash-token") != std::string::npos);
}

TEST_CASE("tokens file: a file the group or others may write is refused, one others may read is warned of",
          "[tokens]") {
  TempDir dir;
  const auto file = dir.path() / "tokens";
  const auto text = line("till", "clerk", "clerk-secret");
  using fs::perms;
  const auto owner = perms::owner_read | perms::owner_write;

  for (auto writable : {perms::group_write, perms::others_write}) {
    write_tokens(file, text, owner | perms::group_read | writable);
    auto table = server::TokenTable::load(file);
    REQUIRE_FALSE(table.ok());
    INFO(table.error());
    CHECK(table.error().find(file.string()) != std::string::npos);
    CHECK(table.error().find("chmod go-w " + file.string()) != std::string::npos);
  }

  write_tokens(file, text, owner | perms::group_read);
  std::vector<std::string> warnings;
  CHECK(server::TokenTable::load(file, &warnings).ok());
  CHECK(warnings.empty());

  write_tokens(file, text, owner | perms::group_read | perms::others_read);
  auto readable = server::TokenTable::load(file, &warnings);
  CHECK(readable.ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("chmod o-r " + file.string()) != std::string::npos);
}
