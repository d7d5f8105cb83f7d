// The tools that open a stopped ledgerd's data directory leave nothing that fails the next
// erasure pass: a real ledgerd creates customers and stops (SIGTERM); ledger-admin or
// ledger-audit runs on the directory with --data; the restarted ledgerd deletes one customer and
// purges with wait, and the pass reports verified with no stray file — at once, not after its
// 60 s quiescence timeout. The commands that only read (check, stats, export, audit verify) also
// leave the directory's WAL, SST and MANIFEST files as they were. At the end tools/residue-scan
// finds every survivor's name in the directory and no purged one's.
#include <set>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/ledgerd_process.h"
#include "support/ledger_calls.h"
#include "support/temp_dir.h"
#include "support/run_tool.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

namespace {

// The files RocksDB keeps the data in (not its info logs).
std::set<std::string> data_files(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    const auto ext = e.path().extension();
    if (ext == ".log" || ext == ".sst" || name.rfind("MANIFEST-", 0) == 0) out.insert(name);
  }
  return out;
}

std::uint64_t create(client::Connection& client, const std::string& name) {
  auto reply = client.call(*testing::create_message(3, "create-" + name, name));
  REQUIRE(reply.get().isWritten());
  return reply.get().getWritten().getNumber();
}

struct Tool {
  std::string path;
  std::string args;  // after --data DIR
  bool reads_only;
};

}  // namespace

TEST_CASE("after any tool ran on the stopped server's directory, the next purge's erasure pass verifies at once",
          "[reliability][erasure-after-tools]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  const std::vector<Tool> tools = {
      {LEDGER_ADMIN_PATH, "check", true},
      {LEDGER_ADMIN_PATH, "stats", true},
      {LEDGER_ADMIN_PATH, "export --deleted", true},
      {LEDGER_AUDIT_PATH, "verify", true},
      {LEDGER_ADMIN_PATH, "rebuild", false},
      {LEDGER_ADMIN_PATH, "compact", false},
      {LEDGER_ADMIN_PATH, "checkpoint " + testing::quoted((dir.path() / "checkpoint").string()), false},
  };
  int round = 0;
  for (const auto& tool : tools) {
    INFO(tool.path << " --data " << data << " " << tool.args);
    std::uint64_t doomed = 0;
    {
      LedgerdProcess server(data);
      client::Connection client({server.address(), false, {}});
      testing::hello(client);
      for (int i = 0; i < 10; ++i) {
        const auto number = create(client, "Round " + std::to_string(round) + " customer " + std::to_string(i));
        if (i == 0) doomed = number;
      }
      REQUIRE(server.stop(SIGTERM) == 0);
    }
    const auto before = data_files(data);
    const auto run = testing::run_on_data(tool.path, data, tool.args);
    INFO(run.output);
    REQUIRE(run.status == 0);
    if (tool.reads_only) CHECK(data_files(data) == before);

    LedgerdProcess server(data);
    client::Connection client({server.address(), false, {}});
    testing::hello(client);
    auto deleted = client.call(*testing::request_message(4, [&](auto r) { r.initDelete().initNumbers(1).set(0, doomed); }));
    REQUIRE(deleted.get().isChanged());
    // With wait, the answer comes when the pass has reported: its outcome bounds the test.
    auto purge = client.call(*testing::request_message(5, [](auto r) {
      auto p = r.initPurge();
      p.setConfirm(true);
      p.setExpectCount(-1);
      p.setWait(true);
    }));
    REQUIRE(purge.get().isPurged());
    const auto erasure = purge.get().getPurged().getErasure();
    const auto report = boost::json::parse(erasure.getReport().cStr()).as_object();
    INFO(boost::json::serialize(report));
    CHECK(std::string(erasure.getState().cStr()) == "done");
    CHECK(report.at("verified").as_bool());
    CHECK(report.at("stray_files").as_array().empty());
    CHECK(report.at("quiescent").as_bool());
    // Far below the pass's 60 s quiescence timeout, which a stray file would run into.
    CHECK(report.at("verify_ms").to_number<std::uint64_t>() < 10'000);
    CHECK(server.stop(SIGTERM) == 0);
    ++round;
  }

  // The auditors' independent check agrees: every purged name is gone, every survivor's is there.
  std::string names;
  for (int r = 0; r < round; ++r) {
    for (int i : {0, 1}) names += " " + testing::quoted("Round " + std::to_string(r) + " customer " + std::to_string(i));
  }
  const auto scan = testing::run_tool(RESIDUE_SCAN_PATH, testing::quoted(data.string()) + names);
  INFO(scan.output);
  CHECK(scan.status == 1);
  for (int r = 0; r < round; ++r) {
    const auto name = "Round " + std::to_string(r) + " customer ";
    CHECK_THAT(scan.stdout_text, Catch::Contains("not found " + name + "0\n") && Catch::Contains("FOUND     " + name + "1\n"));
  }
}
