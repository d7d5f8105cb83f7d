// open_ledger: the start-up that must happen before a data directory takes its first command,
// and the command service that then takes them. ledgerd, the tools and the tests call
// open_ledger; a caller that decides commands itself without the service (a benchmark's
// GroupBatch) calls prepare_ledger alone.
// Both write to the directory; neither may run beside a running CommandService on it.
#pragma once

#include <memory>

#include "eventstore/database.h"
#include "server/command_service.h"
#include "server/group_batch.h"

namespace ledger::server {

// Before anything reads the projections (Database::open has migrated a 0.1.0 directory): finishes
// a projection rebuild that was cut off, initializes a new data directory (one sync write), then
// reads where the writer goes on from (three rows and the first free-number row; nothing is
// replayed). Throws StorageError when the directory cannot be used.
WriterState prepare_ledger(eventstore::Database& database);

// prepare_ledger, then a CommandService on `database` (which must outlive it), started with
// `options` as given (a crash test's main puts LEDGER_CRASH_AT's point in options.crash_at).
// Throws StorageError when the directory cannot be used.
std::unique_ptr<CommandService> open_ledger(eventstore::Database& database, CommandServiceOptions options = {});

}  // namespace ledger::server
