#include "projections/replay.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "domain/decide.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"

namespace ledger::projections {

ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until) {
  ReplayedLedger ledger;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (until != 0 && e.seq > until) return false;
    ++ledger.entries;
    ledger.next_id = std::max(ledger.next_id, e.customer + 1);
    if (e.redacted()) return true;
    auto event = decode_payload(e);
    if (auto* purged = std::get_if<domain::CustomersPurged>(&event)) {
      for (auto id : purged->ids) ledger.customers.erase(id);
      return true;
    }
    const auto id = domain::customer_of(event);
    // Ids are handed out from 1, one per customer created, so the n-th entry names an id of at
    // most n. A higher one is corruption, and would make the id table huge.
    if (id > ledger.entries) {
      throw eventstore::CorruptionError("log entry " + std::to_string(e.seq) + " names customer id " +
                                        std::to_string(id) + ", more than the entries up to it could create");
    }
    // The state and the event are moved through evolve, not copied: a fold of the whole log.
    auto* found = ledger.customers.find(id);
    if (!found) {
      ledger.customers.put(id, domain::evolve(std::nullopt, std::move(event)));
    } else {
      *found = domain::evolve(std::move(*found), std::move(event));
    }
    return true;
  });
  return ledger;
}

}  // namespace ledger::projections
