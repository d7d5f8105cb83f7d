#include "tools/audit/history.h"

#include <fmt/format.h>

#include "domain/decide.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

// Folds entries one by one, recording what each changed.
class Stepper {
 public:
  HistoryStep step(const eventstore::Envelope& envelope) {
    HistoryStep step{envelope.seq, envelope.at_us, envelope.actor,
                     std::string(domain::kind_name(static_cast<domain::EventKind>(envelope.kind))), envelope.redacted_by, {}};
    if (envelope.redacted()) return step;
    const auto event = projections::decode_payload(envelope);
    const auto after = domain::evolve(state_, event);
    for (auto field : domain::kAllFields) {
      const std::string before = state_ ? state_->fields.get(field) : std::string();
      if (before != after.fields.get(field)) {
        step.changes.push_back({std::string(domain::field_name(field)), before, after.fields.get(field)});
      }
    }
    const std::string status_before = state_ ? std::string(domain::status_name(state_->status)) : std::string();
    const std::string status_after(domain::status_name(after.status));
    if (status_before != status_after) step.changes.push_back({"status", status_before, status_after});
    if (!state_ || state_->number != after.number) {
      step.changes.push_back({"number", state_ ? std::to_string(state_->number) : "", std::to_string(after.number)});
    }
    state_ = after;
    return step;
  }

 private:
  std::optional<domain::Customer> state_;
};

}  // namespace

std::vector<HistoryStep> history_by_number(const eventstore::Reader& reader, domain::CustomerNumber number) {
  std::vector<HistoryStep> steps;
  Stepper stepper;
  for (const auto& entry : projections::customer_history(reader, number)) steps.push_back(stepper.step(entry.envelope));
  return steps;
}

std::vector<HistoryStep> history_by_id(const eventstore::Reader& reader, domain::CustomerId id) {
  std::vector<HistoryStep> steps;
  Stepper stepper;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.customer == id) steps.push_back(stepper.step(e));
    return true;
  });
  return steps;
}

boost::json::array history_json(const std::vector<HistoryStep>& steps) {
  boost::json::array out;
  for (const auto& step : steps) {
    boost::json::object o;
    o["seq"] = step.seq;
    o["at"] = step.at_us;
    o["time"] = format_time(step.at_us);
    o["actor"] = step.actor;
    o["kind"] = step.kind;
    o["stub"] = step.redacted_by != 0;
    o["redacted_by"] = step.redacted_by;
    boost::json::array changes;
    for (const auto& c : step.changes) changes.push_back(boost::json::object{{"field", c.field}, {"old", c.before}, {"new", c.after}});
    o["changes"] = std::move(changes);
    out.push_back(std::move(o));
  }
  return out;
}

// Line breaks in addresses and notes are shown as \n so that each change stays on one line.
std::string one_line(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string history_text(const std::vector<HistoryStep>& steps) {
  std::string out;
  for (const auto& step : steps) {
    out += fmt::format("seq {}  {}  {}  {}\n", step.seq, format_time(step.at_us), step.actor, step.kind);
    if (step.redacted_by != 0) out += fmt::format("    (erased by purge {})\n", step.redacted_by);
    for (const auto& c : step.changes) out += fmt::format("    {}: \"{}\" -> \"{}\"\n", c.field, one_line(c.before), one_line(c.after));
  }
  return out;
}

}  // namespace ledger::tools
