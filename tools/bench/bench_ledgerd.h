// ledger-bench's ledgerd: a tools::LedgerdProcess (tools/common/ledgerd_process.h) started for a
// benchmark, and the benchmark's session with it over TCP, like any client's.
//
// Thread-safe (pure functions); each session is used by one thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tools/common/ledgerd_process.h"

namespace ledger::client {
class Client;
}

namespace ledger::bench {

using tools::LedgerdProcess;

// How a benchmark starts `ledgerd` on `data`: listening on a free loopback port, its log in
// `log_file`, up to 120 s to open the data directory; stopped with SIGTERM, and waited for, when
// it goes out of scope.
tools::LedgerdLaunch bench_launch(const std::filesystem::path& ledgerd, const std::filesystem::path& data,
                                  const std::filesystem::path& log_file);

// A session with `server` (HOST:PORT) that said hello as the benchmark (a ledgerd without
// --tokens accepts it); its requests go through session->connection() with the benchmark's own
// ids (from 2). Throws client::ConnectionError when it cannot connect, std::runtime_error when
// ledgerd refuses.
std::unique_ptr<client::Client> bench_session(const std::string& server);

// The ledgerd next to this executable in the build tree (build/server/ledgerd).
std::filesystem::path default_ledgerd_path();

}  // namespace ledger::bench
