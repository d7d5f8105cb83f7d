#include "tools/common/log_json.h"

#include "projections/queries.h"

namespace ledger::tools {
namespace {

// Views `envelope`'s strings: valid while it lives unchanged.
EntryView entry_view(const eventstore::Envelope& envelope) {
  return EntryView{.seq = envelope.seq,
                   .at_us = envelope.at_us,
                   .actor = envelope.actor,
                   .request = envelope.request,
                   .customer = envelope.customer,
                   .number = envelope.number,
                   .kind = envelope.kind,
                   .digest = envelope.digest,
                   .chain = envelope.chain,
                   .redacted_by = envelope.redacted_by};
}

}  // namespace

boost::json::object envelope_json(const eventstore::Envelope& envelope, const domain::Customer* before) {
  if (envelope.redacted()) return entry_json(entry_view(envelope), nullptr);
  const auto event = projections::decode_payload(envelope);
  return entry_json(entry_view(envelope), &event, before);
}

}  // namespace ledger::tools
