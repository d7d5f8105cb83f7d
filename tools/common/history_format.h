// How the tools show a customer's history: one step per log entry with who, when, what kind,
// and each field it changed old -> new. `ledger-audit history` and `ledgerctl history` print
// the same text through history_text, so an auditor reads one format whichever tool asked.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace ledger::tools {

struct FieldDelta {
  std::string field;  // "name", ..., or "status", "number"
  std::string before;  // empty when there was no value (a creation)
  std::string after;
};

struct HistoryStep {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string actor;
  std::string kind;
  std::uint64_t redacted_by = 0;  // a stub: what it changed is erased
  std::vector<FieldDelta> changes;
};

// One change as a JSON object: {"field", "old", "new"}.
boost::json::object delta_json(const FieldDelta& delta);
// Every step with seq, at, time, actor, kind, stub, redacted_by and changes (delta_json).
boost::json::array history_json(const std::vector<HistoryStep>& steps);
// A line per step ("seq 4  TIME  ACTOR  KIND"), then a line per change, indented:
// `name: "Ada" → "Ada King"`, line breaks in values shown as \n.
std::string history_text(const std::vector<HistoryStep>& steps);

}  // namespace ledger::tools
