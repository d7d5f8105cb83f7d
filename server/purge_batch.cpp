#include "server/purge_batch.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "eventstore/crypto.h"
#include "eventstore/envelope.h"
#include "eventstore/event_log.h"
#include "eventstore/pending_erasure.h"
#include "projections/erasure_probes.h"
#include "projections/projector.h"
#include "projections/queries.h"

namespace ledger::server {
namespace {

// A purge finds a customer's entries through its stream index rows. A row that is missing
// (removed by hand, lost to corruption) would leave its entry unredacted, the customer's data
// in it, while the purge reported success. The customer's revision counts the events applied
// to it, one log entry each (domain::Customer), so it is the length of the stream: when the
// rows found fall short of it (or exceed it), the whole purge fails and nothing is written.
void require_whole_stream(const domain::Customer& customer, std::uint32_t found) {
  if (found == customer.revision) return;
  throw eventstore::CorruptionError(fmt::format(
      "cleanup refused, nothing was purged: customer {} (id {}) has {} log entries but the stream index lists {} "
      "of them, so the purge would leave some of its data in the log. Stop ledgerd, run `ledger-admin check` to "
      "see the missing row and `ledger-admin rebuild` to rebuild the stream index from the log, then run the "
      "cleanup again",
      customer.number, customer.id, customer.revision, found));
}

}  // namespace

PurgeWrites add_purge(eventstore::Database& database, const eventstore::OverlayReader& overlay,
                      eventstore::PendingBatch& batch, std::uint64_t purge_seq, domain::CustomersPurged& purged,
                      projections::LowestFreeInterval& lowest_free, const std::function<void()>& append_receipt) {
  PurgeWrites writes;
  // Receipt leaves ordered by (customer id, seq), whatever order the ids came in.
  std::map<domain::CustomerId, eventstore::Redaction> redactions;
  std::vector<std::optional<domain::Customer>> before;
  // Probes come from every payload of the stream, old values included, so they are taken
  // before redaction clears the payloads.
  projections::ProbeSet probes;
  for (auto id : purged.ids) {
    auto customer = projections::customer_by_id(overlay, id);
    if (!customer) throw eventstore::CorruptionError("customer id " + std::to_string(id) + " is deleted but has no state");
    probes.merge(projections::stream_probes(overlay, id));
    auto redaction = eventstore::redact_stream(overlay, batch, id, purge_seq);
    require_whole_stream(*customer, redaction.entries);
    redactions[id] = std::move(redaction);
    before.push_back(std::move(customer));
  }
  writes.probes.assign(std::make_move_iterator(probes.begin()), std::make_move_iterator(probes.end()));
  std::vector<eventstore::Digest> leaves;
  for (const auto& [id, redaction] : redactions) leaves.insert(leaves.end(), redaction.digests.begin(), redaction.digests.end());
  for (auto id : purged.ids) purged.entries_redacted.push_back(redactions[id].entries);
  purged.merkle_root = eventstore::merkle_root(leaves);
  append_receipt();
  for (auto& customer : before) {
    projections::project(overlay, batch, customer, std::nullopt, &lowest_free);
    writes.changes.push_back({std::move(customer), std::nullopt});
  }
  std::vector<std::uint64_t> redacted;
  for (const auto& [id, redaction] : redactions) redacted.insert(redacted.end(), redaction.seqs.begin(), redaction.seqs.end());
  std::sort(redacted.begin(), redacted.end());
  eventstore::record_pending_erasure(database, batch, purge_seq, redacted);
  return writes;
}

}  // namespace ledger::server
