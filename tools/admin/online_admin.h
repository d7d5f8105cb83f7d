// ledger-admin --server: the subset of its commands that works while ledgerd runs, over the
// protocol: purge (Cleanup old customers), stats, CSV import and list export. The commands that
// need the data files (check, rebuild, compact, checkpoint) are refused in main().
//
// Each returns the exit status (0 done; 1 rows refused; 2 a refusal or error) and throws
// AccessError (exit 3) when the server cannot be reached or refuses the token or the role,
// ToolError (exit 2) for errors to report as one line. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tools/common/server_session.h"

namespace ledger::tools {

// The role a command needs, as the start of the message when the server says forbidden.
constexpr const char* kPurgeNeeds = "purge through --server needs an admin token";
constexpr const char* kImportNeeds = "import through --server needs a clerk or admin token";
constexpr const char* kStatsNeeds = "stats through --server needs an auditor or admin token";
constexpr const char* kExportNeeds = "export through --server needs a token that may list customers";

// Asks on a terminal ("type yes") unless `yes`; the caller has refused already when there is no
// terminal and no `yes`. Sends purge with the count guard (`expect_count`, or the count shown)
// and waits for the erasure pass's report, which it prints.
int online_purge(ServerSession& session, bool yes, std::optional<std::uint64_t> expect_count);

// The server's stats: customers, log length, the writer's counters, connections.
int online_stats(ServerSession& session, bool json);

// Checks every row as --data does, then creates the customers with the same request keys as
// --data, pipelined on the one connection: at most `batch` (and 8,192) requests unanswered, the
// next sent as each answer arrives. A numbered row whose number is held is bad unless an earlier
// run created that customer; only the server knows (the request key), so those rows are
// submitted first and a refusal makes them bad rows, before any other row goes.
int online_import(ServerSession& session, const std::string& file, bool skip_bad, std::size_t batch);

// The active or deleted list, page by page, in the format --data writes.
int online_export(ServerSession& session, bool deleted, const std::string& format);

}  // namespace ledger::tools
