// kill -9 under load: writers pipeline creates with request keys to a real ledgerd and record
// every outcome; the server is killed (SIGKILL) at a random moment, many times. After each
// restart every acknowledged create is there exactly once, a retry of every unacknowledged one
// with the same key is answered without a duplicate, and at the end the log verifies.
// LEDGER_RELIABILITY_LONG=1 runs more cycles.
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "eventstore/reader.h"
#include "support/ledgerd_process.h"
#include "projections/verify.h"
#include "support/ledger_calls.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

namespace {

bool long_mode() {
  const char* v = std::getenv("LEDGER_RELIABILITY_LONG");
  return v && std::string(v) == "1";
}

struct Attempt {
  std::string key;
  std::string name;
};

// What the writers learnt in one cycle. Guarded by `mutex`.
struct CycleLog {
  std::mutex mutex;
  std::vector<std::pair<Attempt, std::uint64_t>> acknowledged;  // with the number it got
  std::vector<Attempt> unacknowledged;                          // sent, no answer before the kill
  std::vector<std::string> unexpected;                          // answers no create should get
  std::atomic<std::uint64_t> acknowledged_count{0};
};

constexpr int kWriters = 4;
constexpr std::size_t kPipeline = 16;
constexpr int kMaxPerWriterPerCycle = 50'000;

// Pipelines creates until the connection breaks (the kill) or the bound is reached.
void write_until_killed(const std::string& address, int writer, int cycle, CycleLog& log) {
  std::map<std::uint64_t, Attempt> in_flight;
  std::vector<std::pair<Attempt, std::uint64_t>> acknowledged;
  std::vector<Attempt> unacknowledged;
  std::vector<std::string> unexpected;
  try {
    client::Connection client({address, false, {}});
    testing::hello(client);
    std::uint64_t id = 10;
    int sent = 0;
    while (sent < kMaxPerWriterPerCycle || !in_flight.empty()) {
      while (in_flight.size() < kPipeline && sent < kMaxPerWriterPerCycle) {
        Attempt a{"k" + std::to_string(writer) + "-" + std::to_string(cycle) + "-" + std::to_string(sent),
                  "Reliable w" + std::to_string(writer) + " c" + std::to_string(cycle) + " " + std::to_string(sent)};
        ++sent;
        ++id;
        in_flight[id] = a;
        client.send(*testing::create_message(id, a.key, a.name));
      }
      auto reply = client.receive();
      auto it = in_flight.find(reply.get().getId());
      if (it == in_flight.end()) {
        unexpected.push_back("a response with an id never sent: " + std::to_string(reply.get().getId()));
        continue;
      }
      if (reply.get().isWritten()) {
        acknowledged.emplace_back(it->second, reply.get().getWritten().getNumber());
        log.acknowledged_count.fetch_add(1);
      } else if (reply.get().isError() && (reply.get().getError().getCode() == protocol::ErrorCode::BUSY ||
                                           reply.get().getError().getCode() == protocol::ErrorCode::SHUTTING_DOWN)) {
        unacknowledged.push_back(it->second);
      } else {
        unexpected.push_back("create " + it->second.key + " answered with neither written nor busy");
      }
      in_flight.erase(it);
    }
  } catch (const client::ConnectionError&) {
    // The kill: whatever is in flight may or may not be durable.
  }
  for (auto& [id, a] : in_flight) unacknowledged.push_back(a);
  std::lock_guard lock(log.mutex);
  log.acknowledged.insert(log.acknowledged.end(), acknowledged.begin(), acknowledged.end());
  log.unacknowledged.insert(log.unacknowledged.end(), unacknowledged.begin(), unacknowledged.end());
  log.unexpected.insert(log.unexpected.end(), unexpected.begin(), unexpected.end());
}

}  // namespace

TEST_CASE("kill -9 under load: every acknowledged create survives exactly once, retries never duplicate",
          "[reliability][kill]") {
  const int cycles = long_mode() ? 50 : 10;
  TempDir dir;
  const auto data = dir.path() / "data";
  std::mt19937 random(std::random_device{}());

  std::map<std::string, std::pair<std::string, std::uint64_t>> written;  // key -> name, number
  std::vector<Attempt> to_retry;
  std::uint64_t acknowledged_total = 0, retried = 0, retried_already_durable = 0, kills = 0;

  for (int cycle = 0; cycle <= cycles; ++cycle) {
    LedgerdProcess server(data, {"--max-in-flight", "64"});
    client::Connection checker({server.address(), false, {}});
    testing::hello(checker);

    // Retries of what the last kill left unanswered: same key, so at most one customer each.
    std::uint64_t id = 1000;
    for (const auto& a : to_retry) {
      auto reply = checker.call(*testing::create_message(++id, a.key, a.name));
      INFO("retry of " << a.key);
      REQUIRE(reply.get().isWritten());
      ++retried;
      retried_already_durable += reply.get().getWritten().getReplayed();
      written[a.key] = {a.name, reply.get().getWritten().getNumber()};
    }
    to_retry.clear();
    // A retry of something acknowledged is answered with its first outcome.
    int replays = 0;
    for (auto it = written.begin(); it != written.end() && replays < 20; ++it, ++replays) {
      auto reply = checker.call(*testing::create_message(++id, it->first, it->second.first));
      REQUIRE(reply.get().isWritten());
      CHECK(reply.get().getWritten().getReplayed());
      CHECK(reply.get().getWritten().getNumber() == it->second.second);
    }

    // Every acknowledged create is there exactly once, with the number it was given, and
    // nothing else is.
    const auto active = testing::list_active(checker);
    std::size_t missing = 0, duplicated = 0, renumbered = 0;
    for (const auto& [key, expected] : written) {
      auto count = active.count_by_name.find(expected.first);
      if (count == active.count_by_name.end()) {
        ++missing;
        continue;
      }
      duplicated += count->second > 1;
      renumbered += active.number_by_name.at(expected.first) != expected.second;
    }
    INFO("cycle " << cycle);
    CHECK(missing == 0);
    CHECK(duplicated == 0);
    CHECK(renumbered == 0);
    CHECK(active.total == written.size());

    if (cycle == cycles) {
      CHECK(server.stop(SIGTERM) == 0);
      break;
    }

    CycleLog log;
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] { write_until_killed(server.address(), w, cycle, log); });
    }
    // Under way: some creates acknowledged. Then a random moment, then SIGKILL.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (log.acknowledged_count.load() < 50 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a counter, bounded
    }
    CHECK(log.acknowledged_count.load() >= 50);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 500)(random)));
    CHECK(server.stop(SIGKILL) == -1);
    ++kills;
    for (auto& t : writers) t.join();

    for (const auto& u : log.unexpected) FAIL_CHECK(u);
    for (const auto& [a, number] : log.acknowledged) written[a.key] = {a.name, number};
    acknowledged_total += log.acknowledged.size();
    to_retry = std::move(log.unacknowledged);
  }

  // The log itself: dense, chained, digests and projections agree, one entry per create.
  auto database = eventstore::Database::open(data, {});
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(*database));
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.entries == written.size());
  WARN("kill -9 under load: " << kills << " kills, " << acknowledged_total << " creates acknowledged, "
                              << retried << " unanswered creates retried (" << retried_already_durable
                              << " of them had been durable), " << written.size()
                              << " customers, lost 0 checked, log entries " << report.entries);
}
