#include "tools/bench/bench_ledgerd.h"

#include <csignal>
#include <stdexcept>

#include "ledger/client/client.h"

namespace ledger::bench {
namespace fs = std::filesystem;

tools::LedgerdLaunch bench_launch(const fs::path& ledgerd, const fs::path& data, const fs::path& log_file) {
  tools::LedgerdLaunch launch;
  launch.ledgerd = ledgerd;
  launch.data = data;
  launch.log_file = log_file;
  launch.startup_timeout = std::chrono::seconds(120);
  // A large ledger's shutdown takes its time; the benchmark waits for it as long as it takes.
  launch.exit_timeout = std::chrono::hours(24);
  launch.destructor_signal = SIGTERM;
  return launch;
}

std::unique_ptr<client::Client> bench_session(const std::string& server) {
  client::Options options;
  options.connect.server = server;
  options.token = "bench";
  auto session = std::make_unique<client::Client>(options);
  if (session->refused()) throw std::runtime_error("ledgerd refused hello");
  return session;
}

fs::path default_ledgerd_path() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "ledgerd";
  return self.parent_path().parent_path().parent_path() / "server" / "ledgerd";
}

}  // namespace ledger::bench
