// ledger-audit witness and verify --witness, run as programs against data directories built in
// process: recorded heads are appended and checked as the log grows, signed lines hold only
// under their own key and only as signed, and a witness file that is not one is refused with
// the line that is wrong.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "eventstore/event_log.h"
#include "support/ledger_fixture.h"
#include "support/run_tool.h"
#include "support/tool_runs.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::audit;
using ledger::testing::Ledger;
using ledger::testing::quoted;

namespace {

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::trunc);
  for (const auto& line : lines) out << line << "\n";
}

std::string chain_at(Ledger& ledger, std::uint64_t seq) {
  return eventstore::to_hex(eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), seq)->chain);
}

// A new Ed25519 key pair in PEM files: `name`.pem (private) and `name`.pub.pem (public).
struct KeyFiles {
  std::string private_pem;
  std::string public_pem;
};

KeyFiles make_key(const std::filesystem::path& dir, const std::string& name) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                      EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  REQUIRE(context);
  REQUIRE(EVP_PKEY_keygen_init(context.get()) == 1);
  REQUIRE(EVP_PKEY_keygen(context.get(), &raw) == 1);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  KeyFiles files{(dir / (name + ".pem")).string(), (dir / (name + ".pub.pem")).string()};
  FILE* out = std::fopen(files.private_pem.c_str(), "w");
  REQUIRE(out);
  CHECK(PEM_write_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(out);
  out = std::fopen(files.public_pem.c_str(), "w");
  REQUIRE(out);
  CHECK(PEM_write_PUBKEY(out, key.get()) == 1);
  std::fclose(out);
  return files;
}

}  // namespace

TEST_CASE("witness appends the log's head, and verify --witness passes as the log grows", "[audit][witness]") {
  Ledger ledger;
  ledger.create("Ada");
  ledger.create("Bo");
  const auto file = ledger.dir() / "witness.txt";
  ledger.close();
  auto first = audit(ledger, "witness --out " + quoted(file.string()));
  INFO(first.output);
  REQUIRE(first.status == 0);

  ledger.open();
  const auto chain2 = chain_at(ledger, 2);
  ledger.create("Cy");
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));
  const auto chain4 = chain_at(ledger, 4);
  ledger.close();
  auto second = audit(ledger, "witness --out " + quoted(file.string()));
  INFO(second.output);
  REQUIRE(second.status == 0);

  const auto lines = lines_of(file);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::StartsWith("ledger-witness v1 seq=2 chain=" + chain2 + " at="));
  CHECK_THAT(lines[1], Catch::StartsWith("ledger-witness v1 seq=4 chain=" + chain4 + " at="));
  CHECK(second.stdout_text == lines[1] + "\n");

  ledger.open();
  ledger.create("Di");
  ledger.close();
  auto verified = audit(ledger, "verify --witness " + quoted(file.string()));
  INFO(verified.output);
  CHECK(verified.status == 0);
  CHECK_THAT(verified.output, Catch::StartsWith("ok: 5 entries") &&
                                  Catch::Contains("witness: the log extends all 2 heads recorded in " + file.string() + " (up to seq 4)"));
}

TEST_CASE("verify --witness names the first head the log no longer holds", "[audit][witness]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  const auto chain2 = chain_at(ledger, 2), chain3 = chain_at(ledger, 3);
  ledger.close();
  const auto file = ledger.dir() / "witness.txt";
  const std::string at = " at=2026-01-01T00:00:00.000000Z";

  // Seq 2 with seq 3's chain is not this log's entry 2.
  write_lines(file, {"ledger-witness v1 seq=3 chain=" + chain3 + at, "ledger-witness v1 seq=2 chain=" + chain3 + at});
  auto other = audit(ledger, "verify --witness " + quoted(file.string()));
  INFO(other.output);
  CHECK(other.status == 1);
  CHECK_THAT(other.output, Catch::StartsWith("ok: 3 entries"));  // the log itself verifies
  CHECK_THAT(other.output, Catch::Contains("WITNESS FAILED at " + file.string() + " line 2: the log no longer extends the head "
                                           "recorded at seq 2 (chain " + chain3 + "): found chain " + chain2));

  write_lines(file, {"ledger-witness v1 seq=7 chain=" + chain3 + at});
  auto longer = audit(ledger, "--json verify --witness " + quoted(file.string()));
  INFO(longer.output);
  CHECK(longer.status == 1);
  CHECK_THAT(longer.output, Catch::Contains("\"ok\":false") && Catch::Contains("\"log_ok\":true") &&
                                Catch::Contains("\"bad_line\":1") && Catch::Contains("entry missing: log ends at 3"));
}

TEST_CASE("signed witness lines verify only unchanged, under their own key, and all signed", "[audit][witness]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  const auto chain2 = chain_at(ledger, 2);
  ledger.close();
  const auto key = make_key(ledger.dir(), "auditor");
  const auto other_key = make_key(ledger.dir(), "someone-else");
  const auto file = ledger.dir() / "witness.txt";
  auto signed_run = audit(ledger, "witness --out " + quoted(file.string()) + " --sign-key " + quoted(key.private_pem));
  INFO(signed_run.output);
  REQUIRE(signed_run.status == 0);
  CHECK_THAT(signed_run.stdout_text, Catch::Matches("ledger-witness v1 seq=3 chain=[0-9a-f]{64} at=\\S+ keyid=[0-9a-f]{64} sig=[0-9a-f]{128}\n"));

  const auto with_key = [&](const std::string& pem) {
    return audit(ledger, "verify --witness " + quoted(file.string()) + " --witness-key " + quoted(pem));
  };
  auto good = with_key(key.public_pem);
  INFO(good.output);
  CHECK(good.status == 0);
  CHECK_THAT(good.output, Catch::Contains("witness: the log extends all 1 heads") && Catch::Contains("each signed by keyid"));

  auto wrong = with_key(other_key.public_pem);
  INFO(wrong.output);
  CHECK(wrong.status == 1);
  CHECK_THAT(wrong.output, Catch::Contains("line 1: signed by another key"));

  // Moved back to seq 2 with seq 2's true chain: a head this log does extend, but not the one
  // that was signed.
  auto lines = lines_of(file);
  const auto signed_line = lines[0];
  const auto chain_start = signed_line.find(" chain=") + 7;
  lines[0] = "ledger-witness v1 seq=2 chain=" + chain2 + signed_line.substr(chain_start + 64);
  write_lines(file, lines);
  auto moved = with_key(key.public_pem);
  INFO(moved.output);
  CHECK(moved.status == 1);
  CHECK_THAT(moved.output, Catch::Contains("line 1: the signature does not match the line"));
  auto moved_unchecked = audit(ledger, "verify --witness " + quoted(file.string()));
  INFO(moved_unchecked.output);
  CHECK(moved_unchecked.status == 0);  // without the key, the forged head is as good as any
  CHECK_THAT(moved_unchecked.output, Catch::Contains("1 of them signed (signatures not checked: give --witness-key)"));

  write_lines(file, {signed_line});
  auto unsigned_run = audit(ledger, "witness --out " + quoted(file.string()));
  REQUIRE(unsigned_run.status == 0);
  auto mixed = with_key(key.public_pem);
  INFO(mixed.output);
  CHECK(mixed.status == 1);
  CHECK_THAT(mixed.output, Catch::Contains("line 2: the line is not signed"));
}

TEST_CASE("a witness file or key that is not one is refused with what is wrong", "[audit][witness]") {
  Ledger ledger;
  ledger.create("Ada");
  ledger.close();
  const auto file = ledger.dir() / "witness.txt";
  REQUIRE(audit(ledger, "witness --out " + quoted(file.string())).status == 0);
  auto lines = lines_of(file);
  lines.push_back(lines[0].substr(0, lines[0].find(" chain=")) + " chain=XYZ at=2026-01-01");
  write_lines(file, lines);

  auto verify = audit(ledger, "verify --witness " + quoted(file.string()));
  INFO(verify.output);
  CHECK(verify.status == 2);
  CHECK_THAT(verify.output, Catch::Contains(file.string() + " line 2: not a witness line: the second field is not chain="));
  const auto before = lines_of(file);
  auto append = audit(ledger, "witness --out " + quoted(file.string()));
  INFO(append.output);
  CHECK(append.status == 2);
  CHECK_THAT(append.output, Catch::Contains("line 2: not a witness line"));
  CHECK(lines_of(file) == before);  // nothing appended to a file that is not a witness file

  const auto not_a_key = ledger.dir() / "key.pem";
  write_lines(not_a_key, {"-----BEGIN PRIVATE KEY-----", "bm90IGEga2V5", "-----END PRIVATE KEY-----"});
  auto bad_key = audit(ledger, "witness --out " + quoted((ledger.dir() / "new.txt").string()) + " --sign-key " + quoted(not_a_key.string()));
  INFO(bad_key.output);
  CHECK(bad_key.status == 2);
  CHECK_THAT(bad_key.output, Catch::Contains("holds no private key in PEM") && Catch::Contains("openssl genpkey -algorithm ed25519"));
  CHECK_FALSE(std::filesystem::exists(ledger.dir() / "new.txt"));
}

TEST_CASE("a head recorded before a purge still holds after it", "[audit][witness]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  accepted(ledger.service().execute(domain::DeleteCustomers{{2, 3}}));
  ledger.close();
  const auto file = ledger.dir() / "witness.txt";
  REQUIRE(audit(ledger, "witness --out " + quoted(file.string())).status == 0);
  ledger.open();
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 2}));
  ledger.close();
  auto run = audit(ledger, "verify --witness " + quoted(file.string()));
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("(4 stubs)") && Catch::Contains("witness: the log extends all 1 heads"));
}
