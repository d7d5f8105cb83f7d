// ledger-audit and ledger-admin with --server HOST:PORT --token T, against a real ledgerd on a
// loopback port with a tokens file: every audit command answers as it does with --data on the
// same ledger, verify catches a projection that differs from the log, tokens and roles are
// checked, and the admin's online subset (purge, stats, import, export; an import of thousands
// of rows pipelined) works while the commands that need the files refuse.
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "net/certificate.h"
#include "support/forgery.h"
#include "support/ledgerd_process.h"
#include "projections/customer_codec.h"
#include "support/ledger_fixture.h"
#include "tools/common/server_session.h"
#include "tools/import_file.h"
#include "support/run_tool.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::run_tool;
using ledger::testing::ToolRun;

namespace {

constexpr const char* kAuditor = "auditor-secret";
constexpr const char* kClerk = "clerk-secret";
constexpr const char* kAdmin = "admin-secret";

// A ledger directory served by ledgerd with a clerk, an auditor and an admin token; with
// `extra` (e.g. a TLS certificate and key) passed on to ledgerd.
class Served {
 public:
  explicit Served(Ledger& ledger, std::vector<std::string> extra = {}) : ledger_(ledger), extra_(std::move(extra)) {
    ledger_.close();
    tokens_ = (ledger.dir() / "tokens").string();
    std::ofstream out(tokens_);
    out << "desk clerk " << hash(kClerk) << "\n";
    out << "ida auditor " << hash(kAuditor) << "\n";
    out << "root admin " << hash(kAdmin) << "\n";
    out.close();
    start();
  }
  void start() {
    std::vector<std::string> args{"--tokens", tokens_};
    args.insert(args.end(), extra_.begin(), extra_.end());
    server_ = std::make_unique<LedgerdProcess>(data(), args);
  }
  void stop() {
    REQUIRE(server_->stop() == 0);
    server_.reset();
  }
  std::string data() const { return (ledger_.dir() / "data").string(); }
  const std::string& address() const { return server_->address(); }

  ToolRun audit(const std::string& args, const char* token = kAuditor) const {
    return run_tool(LEDGER_AUDIT_PATH, "--server " + server_->address() + " --token " + token + " " + args);
  }
  ToolRun audit_data(const std::string& args) const {
    return run_tool(LEDGER_AUDIT_PATH, "--data " + testing::quoted(data()) + " " + args);
  }
  ToolRun admin(const std::string& args, const char* token = kAdmin) const {
    return run_tool(LEDGER_ADMIN_PATH, "--server " + server_->address() + " --token " + token + " " + args);
  }
  ToolRun admin_data(const std::string& args) const {
    return run_tool(LEDGER_ADMIN_PATH, "--data " + testing::quoted(data()) + " " + args);
  }

 private:
  static std::string hash(const std::string& token) { return eventstore::to_hex(eventstore::sha256(token)); }
  Ledger& ledger_;
  std::vector<std::string> extra_;
  std::string tokens_;
  std::unique_ptr<LedgerdProcess> server_;
};

std::string write_file(const Ledger& ledger, const std::string& name, const std::string& text) {
  const auto path = (ledger.dir() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// So that no erasure pass runs (and changes a report) while the two ways are compared.
void wait_for_erasures(Ledger& ledger) {
  std::vector<std::uint64_t> purges;
  eventstore::scan_entries(eventstore::DatabaseReader(ledger.database()), 1, [&](const eventstore::Envelope& e) {
    if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged)) purges.push_back(e.seq);
    return true;
  });
  // No iterator may stay open during the pass: it would keep the pass from verifying.
  for (auto seq : purges) {
    auto report = ledger.service().wait_for_erasure(seq, std::chrono::minutes(2));
    REQUIRE(report);
    REQUIRE_THAT(eventstore::to_json(*report), Catch::Contains("\"verified\":true"));
  }
}

// Both runs succeed with the same output.
void same_answer(const ToolRun& server, const ToolRun& data, const std::string& what) {
  INFO(what << "\n--server:\n" << server.output << "\n--data:\n" << data.output);
  CHECK(server.status == data.status);
  CHECK(server.output == data.output);
  CHECK_FALSE(server.output.empty());
}

// Every audit command through both ways; prove-purge with `export_file` when given.
void audit_both_ways(const Served& served, const std::string& export_file = {}) {
  for (std::string command : {"history 1", "history 2", "history 3", "history --id 3", "--json history --id 4",
                              "replay --until 7", "--json replay --until 7", "replay --at 2999-01-01", "export",
                              "export --from 2 --until 5", "purges", "--json purges"}) {
    same_answer(served.audit(command), served.audit_data(command), command);
  }
  if (!export_file.empty()) {
    // The same findings, but through the server the digests cannot be checked.
    auto proof = served.audit("prove-purge " + testing::quoted(export_file));
    auto proof_data = served.audit_data("prove-purge " + testing::quoted(export_file));
    INFO(proof.output << "\n" << proof_data.output);
    CHECK(proof.status == 0);
    CHECK(proof_data.status == 0);
    CHECK_THAT(proof.output, Catch::Contains("digests: not checkable through the server"));
    auto after_first_line = [](const std::string& text) { return text.substr(text.find('\n') + 1); };
    CHECK(after_first_line(proof.output) == after_first_line(proof_data.output));
  }
  auto verify = served.audit("--json verify");
  auto verify_data = served.audit_data("--json verify");
  INFO(verify.output << "\n" << verify_data.output);
  REQUIRE(verify.status == 0);
  REQUIRE(verify_data.status == 0);
  auto server_report = boost::json::parse(verify.stdout_text).as_object();
  auto data_report = boost::json::parse(verify_data.stdout_text).as_object();
  CHECK_FALSE(server_report["digests_checked"].as_bool());
  for (auto key : {"entries", "stubs", "purges", "customers"}) CHECK(server_report[key] == data_report[key]);
}

}  // namespace

TEST_CASE("audit --server answers every command as --data does, before and after a purge", "[audit][server]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  wait_for_erasures(ledger);
  Served served(ledger);
  audit_both_ways(served);

  // Customers with request keys (an import), two of them deleted; an export before the purge.
  const auto csv = write_file(ledger, "people.csv", "number,name,company,email,phone,address,notes\n"
                                                    "10,Fay,,,,,\n11,Gil,,,,,\n12,Hal,,,,,\n");
  REQUIRE(served.admin("import " + testing::quoted(csv)).status == 0);
  {
    tools::ServerSession desk(tools::ClientOptions{.server = served.address(), .tls = false, .tls_ca = ""}, kClerk, "test");
    auto reply = desk.call([](protocol::Request::Builder r) {
      auto numbers = r.initDelete().initNumbers(2);
      numbers.set(0, 11);
      numbers.set(1, 12);
    });
    REQUIRE(reply.get().isChanged());
  }
  const auto export_file = (ledger.dir() / "before.jsonl").string();
  REQUIRE(served.audit("export > " + testing::quoted(export_file)).status == 0);
  auto exported_data = served.audit_data("export");
  CHECK(read_file(export_file) == exported_data.output);
  CHECK_THAT(exported_data.output, Catch::Contains("\"request\":\""));

  auto purge = served.admin("purge --yes");
  INFO(purge.output);
  REQUIRE(purge.status == 0);
  CHECK_THAT(purge.output, Catch::Contains("purged 2 customers") && Catch::Contains("numbers freed: 11, 12") &&
                               Catch::Contains("erasure report: {") && Catch::Contains("\"verified\":true"));
  audit_both_ways(served, export_file);

  // And the same once the server is stopped.
  auto exported_live = served.audit("export");
  served.stop();
  same_answer(exported_live, served.audit_data("export"), "export, server stopped");
}

TEST_CASE("audit --server verify fails when the server's projection differs from its log", "[audit][server]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  auto bo = *ledger.service().customer(2);
  bo.fields.name = "Mallory";
  testing::put_state(ledger.database(), bo);
  Served served(ledger);
  auto run = served.audit("verify");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("FAILED") && Catch::Contains("the server's projection differs from its log") &&
                             Catch::Contains("another name for number 2"));
  CHECK_THAT(run.output, Catch::Contains("digests: not checkable through the server; run verify with --data"));
}

TEST_CASE("audit --server witness records the head --data records, and verify --witness checks it through the server", "[audit][server][witness]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  wait_for_erasures(ledger);
  const auto chain8 = eventstore::to_hex(eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), 8)->chain);
  Served served(ledger);
  const auto witness = (ledger.dir() / "witness.txt").string();
  auto remote = served.audit("witness --out " + testing::quoted(witness));
  auto local = served.audit_data("witness --out " + testing::quoted(witness));
  INFO(remote.output << local.output);
  REQUIRE(remote.status == 0);
  REQUIRE(local.status == 0);
  const auto head = [](const std::string& line) { return line.substr(0, line.find(" at=")); };
  CHECK_THAT(remote.stdout_text, Catch::StartsWith("ledger-witness v1 seq=9 chain="));
  CHECK(head(remote.stdout_text) == head(local.stdout_text));
  auto clerk = served.audit("witness --out " + testing::quoted(witness), kClerk);
  INFO(clerk.output);
  CHECK(clerk.status == 3);

  const auto csv = write_file(ledger, "people.csv", "number,name,company,email,phone,address,notes\n10,Fay,,,,,\n");
  REQUIRE(served.admin("import " + testing::quoted(csv)).status == 0);
  auto verified = served.audit("verify --witness " + testing::quoted(witness));
  INFO(verified.output);
  CHECK(verified.status == 0);
  CHECK_THAT(verified.output, Catch::Contains("witness: the log extends all 2 heads recorded in " + witness + " (up to seq 9)"));

  std::ofstream(witness, std::ios::app) << "ledger-witness v1 seq=9 chain=" << chain8 << " at=2026-01-01T00:00:00.000000Z\n";
  auto forged = served.audit("verify --witness " + testing::quoted(witness));
  INFO(forged.output);
  CHECK(forged.status == 1);
  CHECK_THAT(forged.output, Catch::Contains("WITNESS FAILED at " + witness + " line 3: the log no longer extends the head recorded at seq 9"));
}

TEST_CASE("audit --server takes an auditor's token and refuses a clerk's, a wrong one, and no server", "[audit][server]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  Served served(ledger);
  auto auditor = served.audit("verify");
  INFO(auditor.output);
  CHECK(auditor.status == 0);
  CHECK_THAT(auditor.output, Catch::StartsWith("ok: 9 entries") && Catch::Contains("digests: not checkable"));

  auto clerk = served.audit("history 1", kClerk);
  INFO(clerk.output);
  CHECK(clerk.status == 3);
  CHECK_THAT(clerk.output, Catch::Contains("needs an auditor or admin token") && Catch::Contains("clerk"));

  auto wrong = served.audit("export", "not-a-token");
  INFO(wrong.output);
  CHECK(wrong.status == 3);
  CHECK_THAT(wrong.output, Catch::Contains("refused the token"));

  auto nobody = run_tool(LEDGER_AUDIT_PATH, std::string("--server 127.0.0.1:1 --token ") + kAuditor + " verify");
  INFO(nobody.output);
  CHECK(nobody.status == 3);
  CHECK_THAT(nobody.output, Catch::Contains("cannot connect"));
}

TEST_CASE("audit and admin --server speak TLS with --tls-ca, and say so when the server does not", "[audit][admin][server][tls]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  const auto cert = (ledger.dir() / "cert.pem").string();
  const auto key = (ledger.dir() / "key.pem").string();
  REQUIRE(testing::make_certificate(cert, key));
  Served served(ledger, {"--tls-cert", cert, "--tls-key", key, "--hello-timeout-ms", "1000"});
  const auto tls = " --tls-ca " + testing::quoted(cert) + " ";

  auto verify = run_tool(LEDGER_AUDIT_PATH, "--server " + served.address() + tls + "--token " + kAuditor + " verify");
  INFO(verify.output);
  CHECK(verify.status == 0);
  CHECK_THAT(verify.output, Catch::StartsWith("ok: 9 entries"));
  auto history = run_tool(LEDGER_AUDIT_PATH, "--server " + served.address() + tls + "--token " + kAuditor + " history 2");
  INFO(history.output);
  CHECK(history.status == 0);
  auto stats = run_tool(LEDGER_ADMIN_PATH, "--server " + served.address() + tls + "--token " + kAdmin + " --json stats");
  INFO(stats.output);
  CHECK(stats.status == 0);
  CHECK(boost::json::parse(stats.stdout_text).as_object().contains("active"));

  // Without --tls the tools get no answer they can read and say what failed.
  auto plain = served.audit("verify");
  INFO(plain.output);
  CHECK(plain.status == 3);
  CHECK_THAT(plain.output, Catch::Contains("pass --tls"));
  // A certificate that is not the server's is refused at the handshake.
  const auto other_cert = (ledger.dir() / "other.pem").string();
  REQUIRE(testing::make_certificate(other_cert, (ledger.dir() / "other-key.pem").string()));
  auto wrong_ca = run_tool(LEDGER_AUDIT_PATH, "--server " + served.address() + " --tls-ca " + testing::quoted(other_cert) +
                                                  " --token " + kAuditor + " verify");
  INFO(wrong_ca.output);
  CHECK(wrong_ca.status == 3);
  CHECK_THAT(wrong_ca.output, Catch::Contains("TLS handshake") && Catch::Contains("certificate verify failed"));
}

TEST_CASE("admin --server purge needs --yes without a terminal, and an admin's token", "[admin][server]") {
  Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  accepted(ledger.service().execute(domain::DeleteCustomers{{3}}));
  Served served(ledger);
  auto unconfirmed = served.admin("purge");
  INFO(unconfirmed.output);
  CHECK(unconfirmed.status == 2);
  CHECK_THAT(unconfirmed.output, Catch::Contains("pass --yes"));
  auto clerk = served.admin("purge --yes", kClerk);
  INFO(clerk.output);
  CHECK(clerk.status == 3);
  CHECK_THAT(clerk.output, Catch::Contains("needs an admin token"));
  auto wrong_count = served.admin("purge --yes --expect-count 2");
  INFO(wrong_count.output);
  CHECK(wrong_count.status == 2);
  CHECK_THAT(wrong_count.output, Catch::Contains("purge refused"));

  auto deleted = served.admin("export --deleted");
  CHECK_THAT(deleted.output, Catch::Contains("3,Cy"));  // nothing was purged yet
  auto purged = served.admin("purge --yes --expect-count 1");
  INFO(purged.output);
  CHECK(purged.status == 0);
  CHECK_THAT(purged.output, Catch::Contains("purged 1 customers") && Catch::Contains("numbers freed: 3") &&
                                Catch::Contains("erasure report: "));
  auto stats = served.admin("--json stats", kAuditor);
  INFO(stats.output);
  REQUIRE(stats.status == 0);
  auto doc = boost::json::parse(stats.stdout_text).as_object();
  CHECK(doc["active"].as_int64() == 2);
  CHECK(doc["deleted"].as_int64() == 0);
  CHECK(doc["events"].as_int64() == 5);
}

TEST_CASE("admin --server import of the same file twice creates its customers once, and export matches --data", "[admin][server]") {
  Ledger ledger;
  ledger.create("Ada");
  Served served(ledger);
  const auto csv = write_file(ledger, "people.csv",
                              "number,name,company,email,phone,address,notes\r\n"
                              ",\"Lovelace, Ada\",\"Engines \"\"Analytical\"\"\",ada@example.org,,\"1 Street\nLondon\",\r\n"
                              "7,Zoë,,,,,\r\n"
                              ",Bo,,,+44 1,,\r\n");
  auto first = served.admin("import " + testing::quoted(csv), kClerk);
  INFO(first.output);
  CHECK(first.status == 0);
  CHECK_THAT(first.output, Catch::Contains("imported 3 customers, 0 already imported"));
  auto again = served.admin("import " + testing::quoted(csv), kClerk);
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK_THAT(again.output, Catch::Contains("imported 0 customers, 3 already imported"));

  auto held = write_file(ledger, "held.csv", "number,name,company,email,phone,address,notes\n7,Other,,,,,\n,Cleo,,,,,\n");
  auto refused = served.admin("import " + testing::quoted(held), kClerk);
  INFO(refused.output);
  CHECK(refused.status == 1);
  CHECK_THAT(refused.output, Catch::Contains("held.csv:2: number 7 is held") && Catch::Contains("imported nothing: 1 bad rows"));
  auto skipped = served.admin("import --skip-bad " + testing::quoted(held), kClerk);
  INFO(skipped.output);
  CHECK(skipped.status == 0);
  CHECK_THAT(skipped.output, Catch::Contains("imported 1 customers") && Catch::Contains("1 bad rows skipped"));

  auto bad = write_file(ledger, "bad.csv", "number,name,company,email,phone,address,notes\n,,,,,,\n");
  auto nothing = served.admin("import " + testing::quoted(bad), kClerk);
  INFO(nothing.output);
  CHECK(nothing.status == 1);
  CHECK_THAT(nothing.output, Catch::Contains("bad.csv:2:") && Catch::Contains("imported nothing"));

  auto csv_export = served.admin("export --active");
  auto jsonl_export = served.admin("export --active --format jsonl", kAuditor);
  REQUIRE(csv_export.status == 0);
  REQUIRE(jsonl_export.status == 0);
  CHECK_THAT(csv_export.output, Catch::Contains("Lovelace, Ada") && Catch::Contains("Zoë"));
  served.stop();
  same_answer(csv_export, served.admin_data("export --active"), "export --active");
  same_answer(jsonl_export, served.admin_data("export --active --format jsonl"), "export --active --format jsonl");
}

TEST_CASE("admin --server import of thousands of rows creates each customer once, a re-run none, and a bad row only loses itself", "[admin][server]") {
  Ledger ledger;
  Served served(ledger);
  const auto file = testing::many_customers(3000, 100'000);
  const auto csv = write_file(ledger, "many.csv", file.csv);
  auto first = served.admin("import " + testing::quoted(csv), kClerk);
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK_THAT(first.output, Catch::Contains("imported 3000 customers, 0 already imported by an earlier run, 0 refused, 0 bad rows skipped"));
  // Every numbered row is held now: each is asked for, then sent first and answered from the first run.
  auto again = served.admin("import --batch 300 " + testing::quoted(csv), kClerk);
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK_THAT(again.output, Catch::Contains("imported 0 customers, 3000 already imported by an earlier run, 0 refused"));

  const auto with_bad = testing::many_customers(3000, 200'000, 1500);
  const auto bad_csv = write_file(ledger, "with-bad.csv", with_bad.csv);
  auto skipped = served.admin("import --skip-bad " + testing::quoted(bad_csv), kClerk);
  INFO(skipped.output);
  CHECK(skipped.status == 0);
  CHECK_THAT(skipped.output, Catch::Contains("with-bad.csv:" + std::to_string(with_bad.bad_line) + ": name") &&
                                 Catch::Contains("imported 2999 customers, 0 already imported by an earlier run, 0 refused, 1 bad rows skipped"));

  served.stop();
  ledger.open();
  const auto next = testing::check_imported(ledger.service(), file.good, 1);
  testing::check_imported(ledger.service(), with_bad.good, next);
  CHECK(testing::count_active(ledger.service()) == 5999);
}

TEST_CASE("admin --server refuses the commands that need the data files", "[admin][server]") {
  Ledger ledger;
  ledger.create("Ada");
  Served served(ledger);
  for (std::string command : {"compact", "check", "rebuild", "checkpoint /tmp/never-made"}) {
    auto run = served.admin(command);
    INFO(command << ": " << run.output);
    CHECK(run.status == 2);
    CHECK_THAT(run.output, Catch::Contains(command.substr(0, command.find(' ')) + " needs the data files") &&
                               Catch::Contains("--data DIR while ledgerd is stopped"));
  }
  auto actor = served.admin("--actor someone stats");
  CHECK(actor.status == 2);
  CHECK_THAT(actor.output, Catch::Contains("--actor applies to --data"));
}

TEST_CASE("audit --server verify passes while a clerk keeps writing", "[audit][server]") {
  Ledger ledger;
  testing::fill_with_purge(ledger);
  Served served(ledger);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    // No REQUIRE off the test's thread: Catch2 assertions are not thread-safe.
    try {
      tools::ServerSession desk(tools::ClientOptions{.server = served.address(), .tls = false, .tls_ca = ""}, kClerk, "test");
      for (int i = 0; !stop; ++i) {
        auto reply = desk.call([&](protocol::Request::Builder r) { r.initCreate().initFields().setName("W" + std::to_string(i)); });
        if (reply.get().isWritten()) ++written;
        if (i % 3 == 0) {
          const auto number = reply.get().getWritten().getNumber();
          desk.call([&](protocol::Request::Builder r) { r.initDelete().initNumbers(1).set(0, number); });
        }
      }
    } catch (const std::exception&) {
      written = -1000000;
    }
  });
  const int before = written.load();
  auto first = served.audit("verify");
  auto second = served.audit("--json verify");
  const int after = written.load();
  stop = true;
  writer.join();
  INFO(first.output << second.output);
  CHECK(first.status == 0);
  CHECK(second.status == 0);
  CHECK(after > before);  // the writer really ran during the audit
}
