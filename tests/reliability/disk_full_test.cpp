// Disk full: a real ledgerd whose data directory is on a small tmpfs. Commands fill it until
// the disk refuses; from then on every command is refused with a clear error (the server does
// not crash and still answers reads), nothing acknowledged is lost, the ledger verifies, and
// once space is freed it accepts commands again without a restart (docs/reliability.md): ledgerd
// refuses commands while less than --min-free-disk-mb is free, before RocksDB runs out itself.
// Mounting needs root; without it the test says so and checks nothing.
#include <fstream>
#include <thread>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

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
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kFilesystemBytes = 48 << 20;
constexpr std::size_t kWindow = 16;
// ledgerd refuses commands below this much free space, so that RocksDB itself never runs out.
constexpr int kMinFreeMiB = 8;

// A size-limited tmpfs at `dir` for as long as the object lives.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    const std::string options = "size=" + std::to_string(kFilesystemBytes);
    mounted_ = mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallFilesystem() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::uint64_t free_bytes() const {
    struct statvfs s {};
    statvfs(dir_.c_str(), &s);
    return std::uint64_t{s.f_bavail} * s.f_frsize;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// The last lines of the server's log, for a failure message.
std::string log_tail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

struct Written {
  std::string name;
  std::uint64_t number;
};

}  // namespace

TEST_CASE("disk full: commands are refused clearly, nothing acknowledged is lost, it serves again",
          "[reliability][disk-full]") {
  TempDir dir;
  SmallFilesystem small(dir.path() / "small");
  if (!small.mounted()) {
    WARN("disk-full test not run: cannot mount a " << (kFilesystemBytes >> 20) << " MiB tmpfs (" << small.error()
                                                   << "; it needs root)");
    return;
  }
  const auto data = dir.path() / "small" / "data";
  LedgerdProcess server(data, {"--min-free-disk-mb", std::to_string(kMinFreeMiB)});
  client::Connection client({server.address(), false, {}});
  testing::hello(client);

  // Leave the ledger a few MiB above its reserve: a ballast file takes the rest.
  const auto ballast = dir.path() / "small" / "ballast";
  {
    const auto keep = std::uint64_t{kMinFreeMiB + 6} << 20;
    const auto free = small.free_bytes();
    REQUIRE(free > keep);
    std::ofstream out(ballast, std::ios::binary);
    std::vector<char> chunk(1 << 20, 'b');
    for (std::uint64_t left = free - keep; left > 0;) {
      const auto n = std::min<std::uint64_t>(left, chunk.size());
      out.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  }

  // Fill: creates with 4,000-byte notes until the disk refuses, then some more.
  const std::string notes(4000, 'n');
  std::vector<Written> acknowledged;
  std::map<std::uint64_t, std::string> in_flight;  // id -> name
  std::size_t refused = 0, other = 0;
  std::string first_refusal;
  std::uint64_t id = 10;
  int sent = 0;
  const int max_commands = 20'000;
  auto fill = [&] {
  while ((sent < max_commands && refused < 200) || !in_flight.empty()) {
    while (in_flight.size() < kWindow && sent < max_commands && refused < 200) {
      const auto name = "Filler " + std::to_string(sent);
      client.send(*testing::create_message(++id, "fill-" + std::to_string(sent), name, notes));
      in_flight[id] = name;
      ++sent;
    }
    auto reply = client.receive();
    auto it = in_flight.find(reply.get().getId());
    REQUIRE(it != in_flight.end());
    if (reply.get().isWritten()) {
      acknowledged.push_back({it->second, reply.get().getWritten().getNumber()});
    } else if (reply.get().isError() && reply.get().getError().getCode() == protocol::ErrorCode::INTERNAL) {
      if (first_refusal.empty()) first_refusal = reply.get().getError().getMessage().cStr();
      ++refused;
    } else {
      ++other;
    }
    in_flight.erase(it);
  }
  };
  try {
    fill();
  } catch (const client::ConnectionError& e) {
    FAIL(e.what() << "; running: " << server.running() << "; server log:\n" << log_tail(server.log_path()));
  }
  INFO("first refusal: " << first_refusal);
  INFO("server log: " << server.log_path());
  REQUIRE(refused > 0);
  CHECK(other == 0);
  CHECK_THAT(first_refusal, Catch::Contains("could not write to disk"));
  CHECK_THAT(first_refusal, Catch::Contains("MiB free"));
  REQUIRE(server.running());

  // While full: reads are answered, and commands are refused, not lost or half-done.
  auto got = client.call(*testing::request_message(3, [&](auto r) { r.initGet().setNumber(acknowledged.back().number); }));
  CHECK(got.get().isCustomer());
  auto again = client.call(*testing::create_message(4, "while-full", "While Full"));
  CHECK(again.get().isError());

  // Space freed: commands are accepted again, without a restart.
  std::filesystem::remove(ballast);
  bool serving = false;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int attempt = 0; !serving && Clock::now() < deadline && attempt < 10'000; ++attempt) {
    auto reply = client.call(*testing::create_message(5, "after-freeing", "After Freeing"));
    serving = reply.get().isWritten();
    if (serving) acknowledged.push_back({"After Freeing", reply.get().getWritten().getNumber()});
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the server, bounded
  }
  CHECK(serving);
  CHECK(server.running());

  // Nothing acknowledged is lost, across a restart too, and the ledger verifies.
  auto check_all = [&](client::Connection& c) {
    const auto active = testing::list_active(c);
    std::size_t missing = 0;
    for (const auto& w : acknowledged) {
      auto it = active.number_by_name.find(w.name);
      missing += it == active.number_by_name.end() || it->second != w.number || active.count_by_name.at(w.name) != 1;
    }
    CHECK(missing == 0);
  };
  check_all(client);
  CHECK(server.stop() == 0);
  {
    LedgerdProcess restarted(data, {"--min-free-disk-mb", std::to_string(kMinFreeMiB)});
    client::Connection c({restarted.address(), false, {}});
    testing::hello(c);
    check_all(c);
    CHECK(restarted.stop() == 0);
  }
  auto database = eventstore::Database::open(data, {});
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(*database));
  INFO(report.problem);
  CHECK(report.ok);
  WARN("disk full: " << acknowledged.size() << " creates acknowledged, " << refused
                     << " refused while full (\"" << first_refusal << "\"), serving again after freeing space: "
                     << (serving ? "yes" : "no") << ", log entries " << report.entries);
}
