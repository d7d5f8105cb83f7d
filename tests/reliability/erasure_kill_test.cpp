// kill -9 during the erasure pass: a real ledgerd fills with customers whose every field holds a
// unique marker, deletes some, purges them, and is killed (SIGKILL) at a random moment of the
// erasure pass that follows. The restarted ledgerd finishes the pass: every purge's stored
// report says verified with residue 0, no erasure stays pending, the purged customers' markers
// are in no file of the directory while every survivor's are, and the log verifies.
#include <cstdlib>
#include <random>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "erasure/independent_scan.h"
#include "erasure/marked_ledger.h"
#include "eventstore/database.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/reader.h"
#include "server/wire_fields.h"
#include "support/ledgerd_process.h"
#include "projections/verify.h"
#include "support/ledger_calls.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

namespace {

constexpr int kCustomersPerCycle = 1'500;
constexpr int kPurgeEvery = 10;
constexpr std::size_t kWindow = 64;

bool long_mode() {
  const char* v = std::getenv("LEDGER_RELIABILITY_LONG");
  return v && std::string(v) == "1";
}

// Creates marked customers [first, first + count) with at most kWindow in flight; returns their
// numbers by index, and adds their ids to `ids`.
std::map<int, std::uint64_t> create_marked(client::Connection& client, int first, int count,
                                           std::map<int, std::uint64_t>& ids) {
  std::map<int, std::uint64_t> numbers;
  int sent = 0, answered = 0;
  while (answered < count) {
    while (sent < count && sent - answered < static_cast<int>(kWindow)) {
      const int i = first + sent;
      auto message = testing::request_message(static_cast<std::uint64_t>(i) + 100, [&](protocol::Request::Builder r) {
        const auto key = testing::create_request(i);
        r.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
        server::set_wire_fields(r.initCreate().initFields(), testing::marked_fields(i));
      });
      client.send(*message);
      ++sent;
    }
    auto reply = client.receive();
    REQUIRE(reply.get().isWritten());
    numbers[static_cast<int>(reply.get().getId() - 100)] = reply.get().getWritten().getNumber();
    ids[static_cast<int>(reply.get().getId() - 100)] = reply.get().getWritten().getId();
    ++answered;
  }
  return numbers;
}

struct Reports {
  bool all_present = false;
  std::map<std::uint64_t, boost::json::object> by_seq;
};

// Follows the running ledgerd through a secondary instance until every purge in `seqs` has a
// stored report and no erasure is pending, or the deadline passes.
Reports wait_for_reports(const std::filesystem::path& data, const std::filesystem::path& scratch,
                         const std::vector<std::uint64_t>& seqs, std::chrono::seconds timeout) {
  eventstore::OpenOptions options;
  options.secondary_path = scratch;
  auto follower = eventstore::Database::open(data, options);
  Reports out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    follower->catch_up();
    eventstore::DatabaseReader reader(*follower);
    out.by_seq.clear();
    for (auto seq : seqs) {
      if (auto report = eventstore::erasure_report(reader, seq)) {
        out.by_seq[seq] = boost::json::parse(eventstore::to_json(*report)).as_object();
      }
    }
    if (out.by_seq.size() == seqs.size() && eventstore::pending_erasures(reader).empty()) {
      out.all_present = true;
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling the follower, bounded
  }
  return out;
}

}  // namespace

TEST_CASE("kill -9 during the erasure pass: the restart finishes it, residue 0", "[reliability][erasure-kill]") {
  const int cycles = long_mode() ? 12 : 4;
  TempDir dir;
  const auto data = dir.path() / "data";
  std::mt19937 random(std::random_device{}());

  std::vector<std::uint64_t> purge_seqs;
  std::set<int> purged;
  std::map<int, std::uint64_t> ids;  // customer index -> id
  int interrupted = 0;
  std::int64_t pass_ms_estimate = 1'500;
  std::vector<int> delays;

  for (int cycle = 0; cycle <= cycles; ++cycle) {
    LedgerdProcess server(data);
    // The restart finishes what the kill interrupted, while it serves.
    auto reports = wait_for_reports(data, dir.path() / ("follower-" + std::to_string(cycle)), purge_seqs,
                                    std::chrono::seconds(180));
    REQUIRE(reports.all_present);
    for (const auto& [seq, report] : reports.by_seq) {
      INFO("purge " << seq << ": " << boost::json::serialize(report));
      CHECK(report.at("verified").as_bool());
      CHECK(report.at("residue").to_number<std::uint64_t>() == 0);
    }
    if (!purge_seqs.empty()) {
      const auto& last = reports.by_seq.at(purge_seqs.back());
      pass_ms_estimate = std::max<std::int64_t>(200, last.at("duration_ms").to_number<std::int64_t>());
    }
    if (cycle == cycles) {
      CHECK(server.stop(SIGTERM) == 0);
      break;
    }

    client::Connection client({server.address(), false, {}});
    testing::hello(client);
    const int first = cycle * kCustomersPerCycle;
    auto numbers = create_marked(client, first, kCustomersPerCycle, ids);
    std::vector<std::uint64_t> to_delete;
    for (int i = first; i < first + kCustomersPerCycle; i += kPurgeEvery) {
      to_delete.push_back(numbers.at(i));
      purged.insert(i);
    }
    auto deleted = client.call(*testing::request_message(7, [&](auto r) {
      auto list = r.initDelete().initNumbers(static_cast<unsigned>(to_delete.size()));
      for (unsigned k = 0; k < to_delete.size(); ++k) list.set(k, to_delete[k]);
    }));
    REQUIRE(deleted.get().isChanged());
    auto purge = client.call(*testing::request_message(8, [](auto r) {
      auto p = r.initPurge();
      p.setConfirm(true);
      p.setExpectCount(-1);
      p.setWait(false);
    }));
    REQUIRE(purge.get().isPurged());
    CHECK(purge.get().getPurged().getPurged() == to_delete.size());
    purge_seqs.push_back(purge.get().getPurged().getSeq());

    // A random moment within the pass (as long as the last one took), then SIGKILL. The first
    // kill comes at once, while the pass has still to flush and compact, so that at least one
    // lands inside a pass however fast passes have become.
    const int delay =
        cycle == 0 ? 0 : std::uniform_int_distribution<int>(0, static_cast<int>(pass_ms_estimate * 9 / 10))(random);
    delays.push_back(delay);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    CHECK(server.stop(SIGKILL) == -1);

    // Did the kill land before the pass cleared its pending record?
    eventstore::OpenOptions read_only;
    read_only.read_only = true;
    auto look = eventstore::Database::open(data, read_only);
    const auto pending = eventstore::pending_erasures(eventstore::DatabaseReader(*look));
    interrupted += !pending.empty();
  }
  // The test only shows something if kills landed inside passes.
  CHECK(interrupted >= 1);

  auto database = eventstore::Database::open(data, {});
  eventstore::DatabaseReader reader(*database);
  CHECK(eventstore::pending_erasures(reader).empty());
  const auto verified = projections::verify_ledger(reader);
  INFO(verified.problem);
  CHECK(verified.ok);
  CHECK(verified.purges == purge_seqs.size());
  database.reset();

  const auto found = testing::scan_directory(data, static_cast<std::uint64_t>(cycles) * kCustomersPerCycle);
  // No customer's plaintext in any file; a sealed value of every survivor, of no purged customer.
  CHECK(found.markers.empty());
  std::size_t purged_found = 0, survivors_missing = 0;
  for (int i = 0; i < cycles * kCustomersPerCycle; ++i) {
    const bool present = found.sealed_for.contains(ids.at(i));
    if (purged.contains(i)) purged_found += present;
    else survivors_missing += !present;
  }
  CHECK(purged_found == 0);
  CHECK(survivors_missing == 0);
  std::string shown;
  for (auto d : delays) shown += std::to_string(d) + " ";
  WARN("kill -9 during erasure: " << cycles << " kills after purges of " << purged.size() / cycles
                                  << " customers each (delays ms: " << shown << "), " << interrupted
                                  << " landed before the pass finished; every report verified, residue 0");
}
