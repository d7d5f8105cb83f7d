// tools/residue-scan, the auditors' check that uses only rocksdb-tools: after a real purge and its
// erasure pass it finds no customer's plaintext, purged or not (values are sealed); it finds a marker
// that follows NUL bytes in a value, in an SST file and in a WAL file; it refuses bad usage.
#include <fstream>

#include <catch2/catch.hpp>

#include "erasure/marked_ledger.h"
#include "eventstore/erasure_pass.h"
#include "server/open_ledger.h"
#include "support/ledger_fixture.h"
#include "support/run_tool.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

ToolRun residue_scan(const std::filesystem::path& dir, const std::vector<std::string>& strings) {
  std::string args = quoted(dir.string());
  for (const auto& s : strings) args += " " + quoted(s);
  return run_tool(RESIDUE_SCAN_PATH, args);
}

}  // namespace

TEST_CASE("residue-scan finds no customer's plaintext, purged or surviving, after the erasure pass", "[erasure][residue-scan]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  MarkedLedgerPlan plan;
  plan.customers = 50;
  plan.purge_every = 10;  // customers 0, 10, 20, 30, 40 are purged
  {
    auto db = eventstore::Database::open(data, {});
    auto opened = server::open_ledger(*db);
    auto& service = *opened;
    fill_marked_ledger(service, plan);
    const auto seq = accepted(service.execute(domain::PurgeDeletedCustomers{true, 5})).seqs.front();
    const auto report = service.wait_for_erasure(seq, std::chrono::seconds(60));
    REQUIRE(report);
    REQUIRE_THAT(eventstore::to_json(*report), Catch::Contains("\"verified\":true"));
    // The survivor is there, readable through the ledger.
    REQUIRE(service.customer(12));
    REQUIRE_THAT(service.customer(12)->fields.name, Catch::Contains(marker('n', 11, 2)));
  }
  auto both = markers_of(10);
  const auto survivor = markers_of(11);
  both.insert(both.end(), survivor.begin(), survivor.end());
  const auto run = residue_scan(data, both);
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK_THAT(run.stdout_text, Catch::Contains("0 of 22 strings found"));
  for (const auto& m : both) CHECK_THAT(run.stdout_text, Catch::Contains("not found " + m + "\n"));
}

TEST_CASE("residue-scan finds a marker after NUL bytes in a value, in an SST file and in a WAL file", "[erasure][residue-scan]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  const std::string in_sst = "zqm-s-00001-0", in_wal = "zqm-w-00002-0";
  {
    auto db = eventstore::Database::open(data, {});
    const auto put = [&](const std::string& key, const std::string& marker) {
      const std::string value = std::string("\0\0\x01\0", 4) + marker + std::string("\0tail", 5);
      REQUIRE(db->db().Put(rocksdb::WriteOptions(), db->family(eventstore::Family::kCustomers), key, value).ok());
    };
    put("k1", in_sst);
    REQUIRE(db->db().Flush(rocksdb::FlushOptions(), db->family(eventstore::Family::kCustomers)).ok());
    put("k2", in_wal);  // not flushed: only in the WAL when the database closes
  }
  const auto run = residue_scan(data, {in_sst, in_wal, "zqm-x-00003-0"});
  INFO(run.output);
  CHECK(run.status == 1);
  // The marker's block of lines names the file by its extension, with a decoded hit.
  const auto found_in = [&](const std::string& marker, const std::string& ext) {
    return Catch::Matches("[\\s\\S]*FOUND     " + marker + "\n(    [^\n]*\n)*    [0-9]+\\." + ext +
                          " \\(raw [0-9]+, decoded [1-9][0-9]*\\)\n[\\s\\S]*");
  };
  CHECK_THAT(run.stdout_text, found_in(in_sst, "sst"));
  CHECK_THAT(run.stdout_text, found_in(in_wal, "log"));
  CHECK_THAT(run.stdout_text, Catch::Contains("not found zqm-x-00003-0"));
}

TEST_CASE("residue-scan refuses what is not a data directory and empty strings, saying what to do", "[erasure][residue-scan]") {
  TempDir dir;
  const auto not_data = residue_scan(dir.path(), {"x"});
  CHECK(not_data.status == 2);
  CHECK_THAT(not_data.output, Catch::Contains("is not a RocksDB data directory"));
  std::ofstream(dir.path() / "CURRENT") << "MANIFEST-000001\n";
  const auto empty = residue_scan(dir.path(), {""});
  CHECK(empty.status == 2);
  CHECK_THAT(empty.output, Catch::Contains("give non-empty strings"));
  const auto usage = run_tool(RESIDUE_SCAN_PATH, quoted(dir.path().string()));
  CHECK(usage.status == 2);
  CHECK_THAT(usage.output, Catch::Contains("usage: residue-scan DATA_DIR STRING..."));
}
