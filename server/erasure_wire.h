// The erasure report on the wire: fills a protocol Erasure (server/protocol.capnp) from the
// typed report the erasure worker answers with (eventstore/erasure_report.h): the typed fields,
// and the deprecated text ones existing clients read ("pending" / "done" / "failed" and the
// report's JSON, "{}" while pending). Stateless; thread-safe.
#pragma once

#include "domain/events.h"
#include "eventstore/erasure_report.h"
#include "server/protocol.capnp.h"

namespace ledger::server {

// A report in state kPending (or kStopped: nothing stored, the erasure stays pending) fills
// only the states.
void set_erasure(protocol::Erasure::Builder out, const eventstore::ErasureReport& report);

// The purge's receipt, as its log entry holds it (projections::purge_receipt).
void set_receipt(protocol::PurgeReceipt::Builder out, const domain::CustomersPurged& receipt);

}  // namespace ledger::server
