// GroupBatch: one group commit being built. Decides commands one after another against the
// database overlaid with this batch, and adds each accepted command's log entries and
// projection changes. Nothing is durable until the owner writes batch() with sync = true and
// then takes head(), next_id() and last_at_us() to advance. Single-threaded (the writer).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "domain/commands.h"
#include "eventstore/event_log.h"
#include "eventstore/reader.h"
#include "projections/search_index.h"
#include "server/outcome.h"

namespace ledger::server {

struct RequestContext;

class GroupBatch {
 public:
  GroupBatch(eventstore::Database& database, eventstore::LogHead head, domain::CustomerId next_id,
             std::int64_t last_at_us);

  // Decides `command` and, when accepted, adds its writes. A refusal or a failure leaves the
  // batch as it was before the call.
  Outcome add(const domain::Command& command, const RequestContext& context);

  bool empty() { return batch_.GetWriteBatch()->Count() == 0; }
  rocksdb::WriteBatch* batch() { return batch_.GetWriteBatch(); }
  eventstore::LogHead head() const { return head_; }
  domain::CustomerId next_id() const { return next_id_; }
  std::int64_t last_at_us() const { return last_at_us_; }
  // Probes from the customers each accepted purge erased, by purge seq (see
  // projections/erasure_probes.h): personal data, to be handed to the erasure pass in memory
  // once the batch is durable, and dropped if it is not. Leaves the batch without them.
  std::map<std::uint64_t, std::vector<std::string>> take_purge_probes() { return std::move(purge_probes_); }
  // Every customer change of the accepted commands, in order: for the search index once the
  // batch is durable.
  const std::vector<projections::SearchIndex::Change>& changes() const { return changes_; }

 private:
  Accepted apply(const domain::Command& command, const RequestContext& context, std::vector<domain::Event> events);
  std::uint64_t append(const RequestContext& context, const domain::Event& event, const eventstore::StreamKey* key);
  std::int64_t now_us();

  eventstore::Database& database_;
  rocksdb::WriteBatchWithIndex batch_;
  eventstore::OverlayReader overlay_;
  eventstore::LogHead head_;
  domain::CustomerId next_id_;
  std::int64_t last_at_us_;
  std::map<std::uint64_t, std::vector<std::string>> purge_probes_;
  std::vector<projections::SearchIndex::Change> changes_;
};

}  // namespace ledger::server
