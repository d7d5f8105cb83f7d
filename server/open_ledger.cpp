#include "server/open_ledger.h"

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "projections/free_numbers.h"
#include "projections/projector.h"
#include "projections/rebuild.h"

namespace ledger::server {

WriterState prepare_ledger(eventstore::Database& database) {
  // A cut-off rebuild left the projections partly removed. (Database::open has brought a 0.1.0
  // directory to the current layout before this.)
  if (projections::finish_interrupted_rebuild(database)) {
    spdlog::warn("a projection rebuild was cut off before it finished; ran it again from the log before serving");
  }
  eventstore::DatabaseReader reader(database);
  rocksdb::WriteBatch batch;
  if (!projections::projections_initialized(reader)) projections::initialize_projections(reader, batch);
  if (batch.Count() != 0) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    eventstore::Database::check(database.db().Write(sync, &batch), "initializing the data directory");
  }
  WriterState state;
  state.head = eventstore::load_head(reader);
  state.next_id = projections::load_next_customer_id(reader);
  if (auto last = eventstore::read_entry(reader, state.head.next_seq - 1)) state.last_at_us = last->at_us;
  rocksdb::WriteBatch unused;  // FreeNumbers only reads here
  state.lowest_free = projections::FreeNumbers(reader, unused).lowest_interval();
  return state;
}

std::unique_ptr<CommandService> open_ledger(eventstore::Database& database, CommandServiceOptions options) {
  auto service = std::make_unique<CommandService>(database, prepare_ledger(database), std::move(options));
  service->start();
  return service;
}

}  // namespace ledger::server
