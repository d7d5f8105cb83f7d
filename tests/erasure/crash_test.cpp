// Crash safety: a child process fills a ledger, purges, and dies (std::_Exit, nothing closed or
// flushed) at an injected point of the purge and its erasure pass. Reopening the directory
// finishes the erasure: verified, residue 0, the purged customers' markers gone from every file,
// every survivor's still there, and the chain verifying.
#include <spawn.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "erasure/independent_scan.h"
#include "erasure/marked_ledger.h"
#include "eventstore/event_log.h"
#include "eventstore/pending_erasure.h"
#include "projections/verify.h"
#include "server/crash_injection.h"
#include "server/open_ledger.h"
#include "support/temp_dir.h"

extern char** environ;

using namespace ledger;
using namespace ledger::testing;

namespace {

constexpr int kCustomers = 2'000;
constexpr int kPurgeEvery = 50;

// Runs the child with LEDGER_CRASH_AT=point; returns its wait status.
int run_child(const std::filesystem::path& data, const std::string& point) {
  std::vector<std::string> env_strings = {"LEDGER_CRASH_AT=" + point};
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).starts_with("LEDGER_CRASH_AT=")) continue;
    env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string program = ERASURE_CRASH_CHILD, dir = data.string(), customers = std::to_string(kCustomers),
              every = std::to_string(kPurgeEvery);
  std::vector<char*> argv = {program.data(), dir.data(), customers.data(), every.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

// probes_must_survive: some old versions are still stored at the restart; every_entry_stored:
// the old version of every entry the purge redacted is.
void crash_and_recover(const std::string& point, bool probes_must_survive, bool every_entry_stored = false) {
  TempDir dir;
  const auto data = dir.path() / "data";
  const int status = run_child(data, point);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == server::kInjectedCrashExitStatus);

  auto db = eventstore::Database::open(data, {});
  const auto pending = eventstore::pending_erasures(eventstore::DatabaseReader(*db));
  REQUIRE(pending.size() == 1);  // the crash came before the pass could clear it

  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  auto typed = service.wait_for_erasure(pending[0], std::chrono::seconds(120));
  REQUIRE(typed);
  const auto text = eventstore::to_json(*typed);
  INFO(text);
  auto report = boost::json::parse(text).as_object();
  CHECK(report.at("verified").as_bool());
  CHECK(report.at("residue").to_number<std::uint64_t>() == 0);
  // The report says how many of the entries the purge redacted its probes came from, and a
  // check that is "probed" only when that is all of them.
  std::uint64_t stubs = 0;
  eventstore::scan_entries(eventstore::DatabaseReader(*db), 1, [&](const eventstore::Envelope& e) {
    stubs += e.redacted_by == pending[0];
    return true;
  });
  const auto probes = report.at("probes").to_number<std::uint64_t>();
  const auto entries_probed = report.at("entries_probed").to_number<std::uint64_t>();
  CHECK(report.at("purged_entries").to_number<std::uint64_t>() == stubs);
  CHECK(entries_probed <= stubs);
  const std::string check(report.at("check").as_string());
  CHECK(check == (probes == 0 ? "nothing to probe" : entries_probed < stubs ? "partly probed" : "probed"));
  if (probes_must_survive) {
    // Old versions were still stored at the restart: probes came back from them.
    CHECK(probes > 0);
  }
  if (every_entry_stored) {
    // Nothing had flushed since the purge: the replayed memtables still hold every old version.
    CHECK(entries_probed == stubs);
    CHECK(check == "probed");
  }
  CHECK(eventstore::pending_erasures(eventstore::DatabaseReader(*db)).empty());

  const auto found = scan_directory(data, kCustomers);
  // No customer's plaintext in any file; a sealed value of every survivor, of no purged customer.
  CHECK(found.markers.empty());
  std::size_t purged_found = 0, survivors_missing = 0;
  for (int i = 0; i < kCustomers; ++i) {
    const bool present = found.sealed_for.contains(customer_id_of(i));
    if (i % kPurgeEvery == 0) purged_found += present;
    else survivors_missing += !present;
  }
  CHECK(purged_found == 0);
  CHECK(survivors_missing == 0);

  auto verify = projections::verify_ledger(eventstore::DatabaseReader(*db));
  INFO(verify.problem);
  CHECK(verify.ok);
  CHECK(verify.purges == 1);
}

}  // namespace

TEST_CASE("killed right after the purge batch: the next start erases and verifies", "[erasure][crash]") {
  crash_and_recover("after_purge_batch", true, true);
}

TEST_CASE("killed after the pass flushed: the next start erases and verifies", "[erasure][crash]") {
  crash_and_recover("after_flush", true);
}

TEST_CASE("killed during compaction: the next start erases and verifies", "[erasure][crash]") {
  crash_and_recover("during_compaction", true);
}

TEST_CASE("killed before verification: the next start verifies", "[erasure][crash]") {
  // Compaction had finished: the old versions, and with them the probes, may be gone already.
  crash_and_recover("before_verify", false);
}
