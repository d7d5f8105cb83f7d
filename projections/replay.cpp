#include "projections/replay.h"

#include <algorithm>
#include <string>
#include <variant>

#include "eventstore/log_scan.h"

namespace ledger::projections {
namespace {

eventstore::CorruptionError corrupt_payload(std::uint64_t seq, const std::string& why) {
  return eventstore::CorruptionError("log entry " + std::to_string(seq) + " has a corrupt payload: " + why);
}

void apply(ReplayedLedger& ledger, std::uint64_t seq, const domain::StoredEvent& event) {
  try {
    if (event.kind() == domain::EventKind::kPurged) {
      auto purge = event.decode();
      if (!purge) throw corrupt_payload(seq, purge.error());
      for (auto id : std::get<domain::CustomersPurged>(*purge).ids) ledger.customers.erase(id);
      return;
    }
    const auto id = event.customer();
    // Ids are handed out from 1, one per customer created, so the n-th entry names an id of at
    // most n. A higher one is corruption, and would make the id table huge.
    if (id > ledger.entries) {
      throw eventstore::CorruptionError("log entry " + std::to_string(seq) + " names customer id " +
                                        std::to_string(id) + ", more than the entries up to it could create");
    }
    if (auto* found = ledger.customers.find(id)) {
      event.evolve(*found);
    } else {
      ledger.customers.put(id, event.evolve_new());
    }
  } catch (const domain::MessageError& error) {
    throw corrupt_payload(seq, std::string("event: ") + error.what());
  }
}

void count(ReplayedLedger& ledger, const eventstore::EnvelopeView& entry) {
  ++ledger.entries;
  ledger.next_id = std::max(ledger.next_id, entry.customer + 1);
}

}  // namespace

void fold_entry(ReplayedLedger& ledger, const eventstore::EnvelopeView& entry) {
  count(ledger, entry);
  if (entry.redacted()) return;
  try {
    domain::read_stored_event(entry.payload, [&](const domain::StoredEvent& event) { apply(ledger, entry.seq, event); });
  } catch (const domain::MessageError& error) {
    throw corrupt_payload(entry.seq, std::string("event: ") + error.what());
  }
}

void fold_entry(ReplayedLedger& ledger, const eventstore::EnvelopeView& entry, const domain::StoredEvent& event) {
  count(ledger, entry);
  apply(ledger, entry.seq, event);
}

ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until) {
  ReplayedLedger ledger;
  eventstore::LogScan scan(reader, 1);
  while (const auto* e = scan.next()) {
    if (until != 0 && e->seq > until) break;
    fold_entry(ledger, *e);
  }
  return ledger;
}

}  // namespace ledger::projections
