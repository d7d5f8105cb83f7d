// ledger-bench, run as a program for about a second per mode with --json: each mode prints one
// object with its rate, the raw baseline, the ratio and the peak memory, and the counts are
// positive; `table` turns such objects into rows. Speed itself is never asserted: the figures
// go to docs/performance.md.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <unistd.h>

#include "support/ledgerd_process.h"
#include "support/ledger_calls.h"
#include "support/temp_dir.h"
#include "support/run_tool.h"

using ledger::testing::quoted;
using ledger::testing::run_tool;
namespace fs = std::filesystem;

namespace {

// Runs ledger-bench with `args` and returns its JSON object; fails the test otherwise.
boost::json::object bench(const std::string& args) {
  const auto work = fs::temp_directory_path() / ("ledger-bench-smoke-" + std::to_string(getpid()));
  fs::remove_all(work);
  const auto run = run_tool(LEDGER_BENCH_PATH, "--json --work-dir " + quoted(work.string()) + " --ledgerd " +
                                                   quoted(LEDGERD_PATH) + " " + args);
  fs::remove_all(work);
  INFO(run.output);
  REQUIRE(run.status == 0);
  // stdout holds the object and nothing else; logs (the bench's, ledgerd's) go to stderr.
  boost::system::error_code ec;
  auto value = boost::json::parse(run.stdout_text, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(value.is_object());
  return value.as_object();
}

double number(const boost::json::object& object, const char* name) {
  INFO(name);
  const auto* value = object.if_contains(name);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_number());
  return value->to_number<double>();
}

}  // namespace

TEST_CASE("ledger-bench write reports durable commands, latency, the raw baseline, the event-log limit and the networked minimal log", "[bench]") {
  const auto result = bench("write --connections 2 --pipeline 2 --seconds 1 --raw --raw-pool 1000 "
                            "--mix create=70,edit=20,delete=5,undelete=5");
  CHECK(result.at("mode").as_string() == "write");
  CHECK(number(result, "commands") > 0);
  CHECK(number(result, "commands_per_s") > 0);
  CHECK(number(result, "failed") == 0);
  CHECK(number(result, "p50_us") > 0);
  CHECK(number(result, "p99_us") >= number(result, "p50_us"));
  CHECK(number(result, "p999_us") >= number(result, "p99_us"));
  CHECK(number(result, "raw_per_s") > 0);
  CHECK(number(result, "ceiling_per_s") > 0);
  CHECK(number(result, "ratio") > 0);
  CHECK(number(result, "limit_per_s") > 0);
  CHECK(number(result, "limit_p50_us") > 0);
  CHECK(number(result, "limit_ratio") > 0);
  CHECK(number(result, "rss_mb") > 0);
  CHECK(number(result, "writer_decide_us") > 0);
  CHECK(number(result, "writer_write_us") > 0);
  CHECK(number(result, "commands_per_batch") >= 1);
  CHECK(number(result, "ledgerd_cpu_us") > 0);
  CHECK(number(result, "client_cpu_us") > 0);
  CHECK(number(result, "machine_busy_cores") > 0);
  CHECK(number(result, "machine_cores") >= number(result, "machine_busy_cores"));
  CHECK(number(result, "protocol_per_s") > 0);
  CHECK(number(result, "protocol_ratio") > 0);
  CHECK(number(result, "netlog_per_s") > 0);
  CHECK(number(result, "netlog_p50_us") > 0);
  CHECK(number(result, "netlog_ratio") > 0);
}

TEST_CASE("ledger-bench write against a running ledgerd writes anew on every run", "[bench]") {
  // Runs that reused request keys would be answered from the first run's outcomes, unwritten.
  ledger::testing::TempDir dir;
  ledger::testing::LedgerdProcess server(dir.path() / "data");
  const std::string args = "write --server " + server.address() + " --connections 2 --pipeline 2 --seconds 0.3";
  const auto first = bench(args);
  const auto second = bench(args);
  CHECK(number(first, "refused") == 0);
  CHECK(number(second, "refused") == 0);

  ledger::client::Connection client({server.address(), false, {}});
  ledger::testing::hello(client);
  auto stats = client.call(*ledger::testing::request_message(3, [](auto r) { r.setStats(); }));
  REQUIRE(stats.get().isStats());
  // Each run counts the creates answered within its time; a few more may be answered after.
  CHECK(stats.get().getStats().getActive() >= number(first, "commands") + number(second, "commands"));
  CHECK(server.stop() == 0);
}

TEST_CASE("ledger-bench replay reports rebuild, raw scan and opening scan rates", "[bench]") {
  const auto result = bench("replay --events 2000");
  CHECK(result.at("mode").as_string() == "replay");
  CHECK(number(result, "events") >= 2000);
  CHECK(number(result, "events_per_s") > 0);
  CHECK(number(result, "raw_per_s") > 0);
  CHECK(number(result, "ratio") > 0);
  CHECK(number(result, "open_scan_seconds") > 0);
  CHECK(number(result, "rebuild_open_ratio") > 0);
  CHECK(number(result, "rss_mb") > 0);
}

TEST_CASE("ledger-bench purge reports the pass, the bare compaction and no residue", "[bench]") {
  const auto result = bench("purge --customers 1000 --percent 1");
  CHECK(result.at("mode").as_string() == "purge");
  CHECK(number(result, "purged") == 10);
  CHECK(number(result, "seconds") > 0);
  CHECK(number(result, "raw_seconds") > 0);
  CHECK(number(result, "ratio") > 0);
  CHECK(number(result, "residue") == 0);
  CHECK(number(result, "verified") == 1);
  CHECK(number(result, "rss_mb") > 0);
}

TEST_CASE("ledger-bench open reports ledgerd start-up against a bare open", "[bench]") {
  const auto result = bench("open --customers 1000");
  CHECK(result.at("mode").as_string() == "open");
  CHECK(number(result, "seconds") > 0);
  CHECK(number(result, "raw_seconds") > 0);
  CHECK(number(result, "ratio") > 0);
  CHECK(number(result, "reads_found") > 0);
  CHECK(number(result, "rss_mb") > 0);
}

TEST_CASE("ledger-bench search reports the latency of different fragments, no match, open and memory", "[bench]") {
  const auto result = bench("search --customers 300 --searches 50");
  CHECK(result.at("mode").as_string() == "search");
  CHECK(number(result, "customers") == 300);
  // 300 varied customers hold far more than 50 different fragments.
  CHECK(number(result, "searches") == 50);
  // All but one in ten are drawn from the customers' own fields, so they find them.
  CHECK(number(result, "matched") >= 45);
  CHECK(number(result, "p50_us") > 0);
  CHECK(number(result, "p99_us") >= number(result, "p50_us"));
  CHECK(number(result, "nomatch_us") > 0);
  CHECK(number(result, "open_ms") > 0);
  CHECK(number(result, "rss_mb") > 0);
}

TEST_CASE("ledger-bench audit reports the fold and verify against a raw scan", "[bench]") {
  const auto result = bench("audit --events 500");
  CHECK(result.at("mode").as_string() == "audit");
  CHECK(number(result, "events") == 500);
  CHECK(number(result, "customers") == 250);
  CHECK(number(result, "scan_ms") > 0);
  CHECK(number(result, "fold_ms") > 0);
  CHECK(number(result, "verify_ms") > 0);
  CHECK(number(result, "fold_ratio") > 0);
  CHECK(number(result, "verify_ratio") > 0);
  CHECK(number(result, "rss_mb") > 0);
}

TEST_CASE("ledger-bench table gives the search and audit results a row each", "[bench]") {
  const auto results = fs::temp_directory_path() / ("ledger-bench-table-" + std::to_string(getpid()) + ".jsonl");
  {
    std::ofstream out(results);
    out << R"({"mode": "search", "customers": 100000, "open_ms": 243, "searches": 1000, "matched": 911, )"
           R"("full_pages": 846, "p50_us": 9976, "p99_us": 91648, "nomatch_us": 734, "rss_mb": 83.47})"
        << "\n"
        << R"({"mode": "audit", "events": 200000, "scan_ms": 125.7, "fold_ms": 734.2, "verify_ms": 3142, )"
           R"("fold_ratio": 0.1712, "verify_ratio": 0.04001, "rss_mb": 308})"
        << "\n";
  }
  const auto run = ledger::testing::run_tool(LEDGER_BENCH_PATH, "table " + quoted(results.string()));
  fs::remove(results);
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.stdout_text, Catch::Contains("| search 100,000 customers, 1,000 fragments | 9,976 µs per first page (p50) |"));
  CHECK_THAT(run.stdout_text, Catch::Contains("| 9,976 / 91,648 / – | 83 (resident after) | no match 734 µs (p50); "
                                              "911 of the fragments matched, 846 filled the page; ledgerd open 243 ms |"));
  CHECK_THAT(run.stdout_text, Catch::Contains("| audit 200,000 events | fold 734 ms, verify 3,142 ms | 126 ms (scan) | "
                                              "fold 0.171, verify 0.04 |"));
}

TEST_CASE("ledger-bench table shows the networked minimal log beside the event-log limit", "[bench]") {
  const auto results = fs::temp_directory_path() / ("ledger-bench-netlog-" + std::to_string(getpid()) + ".jsonl");
  {
    std::ofstream out(results);
    out << R"({"mode": "write", "connections": 64, "pipeline": 4, "mix": "create=100", "commands_per_s": 20000, )"
           R"("raw_per_s": 21000, "raw_threads": 256, "ratio": 0.95, "limit_per_s": 32000, "limit_p50_us": 7000, )"
           R"("limit_ratio": 0.625, "netlog_per_s": 25000, "netlog_p50_us": 9000, "netlog_ratio": 0.8, )"
           R"("p50_us": 12000, "p99_us": 30000, "p999_us": 50000, "rss_mb": 90})"
        << "\n"
        << R"({"mode": "write", "connections": 1, "pipeline": 1, "mix": "create=100", "commands_per_s": 1000})" << "\n";
  }
  const auto run = ledger::testing::run_tool(LEDGER_BENCH_PATH, "table " + quoted(results.string()));
  fs::remove(results);
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.stdout_text, Catch::Contains("| event-log limit | ours / limit | networked minimal log | ours / netlog |"));
  CHECK_THAT(run.stdout_text, Catch::Contains("| 32,000 puts/s (p50 7,000 µs) | 0.625 | 25,000 cmd/s (p50 9,000 µs) | 0.8 | "
                                              "12,000 / 30,000 / 50,000 |"));
  // A result from before the minimal log existed has none.
  CHECK_THAT(run.stdout_text, Catch::Contains("| – | – | – | – | 0 / 0 / 0 |"));
}
