// GroupBatch: one group commit being built. Decides commands one after another against the
// database overlaid with this batch, and adds each accepted command's log entries and
// projection changes. Nothing is durable until the owner writes batch() with sync = true and
// then calls committed_head() / committed_next_id() to advance. Single-threaded (the writer).
#pragma once

#include <cstdint>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "domain/commands.h"
#include "eventstore/event_log.h"
#include "eventstore/reader.h"
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
};

}  // namespace ledger::server
