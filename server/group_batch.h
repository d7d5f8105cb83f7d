// GroupBatch: one group commit being built. Decides commands one after another against the
// database overlaid with this batch, and adds each accepted command's log entries and
// projection changes. Nothing is durable until the owner writes finish() with sync = true and
// then takes state() to go on from. Single-threaded (the writer).
//
// The batch (eventstore::PendingBatch) indexes only the rows a later command of the group may
// read back: state, views and idempotency outcomes by key in a hash map, free numbers in
// order. The log and stream rows and the stream index rows go into it unindexed, since
// indexing a row costs about as much as deciding a command. Customers' keys live in the key store (eventstore/key_store.h); those of the
// customers created in the group are also kept in memory, and so are the customers decide
// reads for a command, with their keys, until apply has taken them. Only a purge reads log
// and stream rows, so it must be the first command that writes in its batch.
//
// A batch may be built over the batch of the group before it while that one is being written
// (see CommandService): it then reads the database overlaid with both.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/commands.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/reader.h"
#include "projections/free_numbers.h"
#include "projections/search_index.h"
#include "server/outcome.h"

namespace ledger::server {

struct RequestContext;

// What the writer knows of the ledger and carries from one group to the next, so that a
// command does not read it back through the batch: where the log goes on, the id of the next
// customer, the time of the last entry (the log's times never go backwards) and the lowest
// free interval of customer numbers (projections/free_numbers.h; nullopt: read it when needed).
// It must be what the durable rows say once every write before it is durable.
struct WriterState {
  eventstore::LogHead head;
  domain::CustomerId next_id = 1;
  std::int64_t last_at_us = 0;
  projections::LowestFreeInterval lowest_free;
};

class GroupBatch {
 public:
  // "*database" must outlive the batch; `state` is where the ledger stands before it. "*below",
  // when given, is the group before this one, finished and perhaps not durable yet, and
  // `state` is its state(): it is only read, must outlive this batch, and if its write fails
  // this batch must not be written.
  GroupBatch(eventstore::Database& database, WriterState state, GroupBatch* below = nullptr);

  // Decides `command` and, when accepted, adds its writes. A refusal or a failure leaves the
  // batch as it was before the call. Not after finish(). A command for which
  // must_lead_batch() holds throws std::logic_error unless the batch is empty() and has no
  // batch below it.
  Outcome add(const domain::Command& command, const RequestContext& context);
  // The same with `request_row` = request_row(context), computed by the caller.
  Outcome add(const domain::Command& command, const RequestContext& context, std::string request_row);
  // The `requests` row of the context's request key (eventstore::request_row_key); empty when
  // it has none.
  static std::string request_row(const RequestContext& context);
  // Looks up the stored outcomes at the `requests` rows of the commands about to be added
  // (request_row(); empty ones are skipped) all at once: one RocksDB MultiGet instead of one
  // Get per command, nearly all of which miss. Before the first add(); optional.
  void prefetch_requests(const std::vector<std::string>& rows);
  // Whether `command` must be the first in its batch to write anything (a purge).
  static bool must_lead_batch(const domain::Command& command);

  // True while no accepted command has written anything.
  bool empty() { return batch_.GetWriteBatch()->Count() == 0; }
  // Adds the rows every command would otherwise rewrite (the log head, the next customer id),
  // once, and returns the batch to write. Call once, after the last add().
  rocksdb::WriteBatch* finish();
  // Where the ledger stands once the batch is durable.
  const WriterState& state() const { return state_; }
  // The seq of the batch's first entry.
  std::uint64_t first_seq() const { return start_.head.next_seq; }
  // Probes from the customers each accepted purge erased, by purge seq (see
  // projections/erasure_probes.h): personal data, to be handed to the erasure pass in memory
  // once the batch is durable, and dropped if it is not. Leaves the batch without them.
  std::map<std::uint64_t, std::vector<std::string>> take_purge_probes() { return std::move(purge_probes_); }
  // Every customer change of the accepted commands, in order: for the search index once the
  // batch is durable.
  const std::vector<projections::SearchIndex::Change>& changes() const { return changes_; }
  // The same, leaving the batch without them (a batch decided over this one never reads them).
  std::vector<projections::SearchIndex::Change> take_changes() { return std::move(changes_); }

 private:
  class View;
  // A customer as decide read it for the command being added, with its keys: apply takes it
  // instead of reading and opening the state again.
  struct ReadCustomer {
    domain::Customer customer;
    eventstore::CustomerKeys keys;
  };

  Accepted apply(const domain::Command& command, const RequestContext& context, std::vector<domain::Event> events);
  // The key of the stream of customer `id`: created in this group, else read.
  std::optional<eventstore::CustomerKeys> customer_keys(domain::CustomerId id) const;
  // Customer `id` read through the overlay and kept in read_; nullopt when it has no state.
  // Throws eventstore::CorruptionError when it has a state but no keys.
  std::optional<domain::Customer> read_for_decide(domain::CustomerId id);
  // Takes customer `id` out of read_, if decide read it.
  std::optional<ReadCustomer> take_read(domain::CustomerId id);
  // Empties read_, wiping the keys.
  void forget_reads();
  std::uint64_t append(const RequestContext& context, const domain::Event& event, const eventstore::CustomerKeys* keys);
  std::int64_t now_us();

  eventstore::Database& database_;
  eventstore::PendingBatch batch_;
  GroupBatch* below_;  // read only (its index and created keys), while another thread writes it
  eventstore::OverlayReader overlay_;
  const WriterState start_;
  WriterState state_;
  std::map<std::uint64_t, std::vector<std::string>> purge_probes_;
  std::map<domain::CustomerId, eventstore::CustomerKeys> created_keys_;
  std::unordered_map<domain::CustomerId, ReadCustomer> read_;  // for the command being added only
  std::vector<projections::SearchIndex::Change> changes_;
};

}  // namespace ledger::server
