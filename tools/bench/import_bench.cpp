#include "tools/bench/import_bench.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "tools/bench/raw_store.h"
#include "tools/bench/varied_customers.h"

extern char** environ;

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// RFC 4180: quoted when it holds a comma, a quote or a line break.
void put_field(std::string& line, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    line += field;
    return;
  }
  line += '"';
  for (char c : field) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

struct ChildRun {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system, of the child and its threads
};

// Runs `args` with stdout and stderr to `log`; throws unless it exits 0.
ChildRun run_child(const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> owned = args;
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const auto start = Clock::now();
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  }
  ChildRun run;
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  run.cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format("{} failed (status {}); its output is in {}", args[0], status, log.string()));
  }
  return run;
}

constexpr std::uint64_t kGroup = 1024;

// The event-log limit of a bulk load: seconds to append `rows` values in synced groups.
double run_bulk_log_limit(const fs::path& dir, std::uint64_t rows) {
  auto db = eventstore::Database::open(dir, {});
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const std::string value(kLogValueBytes, 'e');
  auto* log = db->family(eventstore::Family::kLog);
  const auto start = Clock::now();
  for (std::uint64_t first = 0; first < rows; first += kGroup) {
    rocksdb::WriteBatch batch;
    for (std::uint64_t i = first; i < std::min(rows, first + kGroup); ++i) {
      eventstore::Database::check(batch.Put(log, eventstore::u64_key(i + 1), value), "bulk limit batch");
    }
    eventstore::Database::check(db->db().Write(sync, &batch), "bulk limit write");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  db->close();
  return seconds;
}

}  // namespace

fs::path default_admin_path() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "ledger-admin";
  return self.parent_path().parent_path() / "admin" / "ledger-admin";
}

void write_import_file(const fs::path& file, std::uint64_t customers) {
  std::ofstream out(file, std::ios::binary);
  out << "number,name,company,email,phone,address,notes\r\n";
  std::string line;
  for (std::uint64_t i = 0; i < customers; ++i) {
    const auto fields = varied_customer_fields(i);
    line.clear();
    // A fixed mix (Knuth's multiplicative hash), so the same rows are numbered in every run.
    if (((i * 2654435761u) >> 7) & 1) line += std::to_string(i + 1);
    for (const auto* field : {&fields.name, &fields.company, &fields.email, &fields.phone, &fields.address, &fields.notes}) {
      line += ',';
      put_field(line, *field);
    }
    line += "\r\n";
    out << line;
  }
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

BenchReport run_import_bench(const ImportBenchOptions& options) {
  BenchReport report("import");
  const auto dir = options.work_dir / "import";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto file = dir / "customers.csv";
  write_import_file(file, options.customers);
  report.add("customers", static_cast<double>(options.customers));
  report.add("file_mb", static_cast<double>(fs::file_size(file)) / 1e6);

  const auto ours = run_child({options.admin.string(), "--data", (dir / "ledger").string(), "import", file.string()},
                              dir / "import.log");
  const double limit = run_bulk_log_limit(dir / "limit", options.customers);
  const double n = static_cast<double>(options.customers);
  report.add("seconds", ours.seconds);
  report.add("per_s", n / ours.seconds);
  report.add("cpu_seconds", ours.cpu_seconds);
  report.add("cpu_us_per_row", ours.cpu_seconds / n * 1e6);
  report.add("limit_seconds", limit);
  report.add("limit_per_s", n / limit);
  report.add("limit_ratio", limit / ours.seconds);
  fs::remove_all(dir);
  return report;
}

}  // namespace ledger::bench
