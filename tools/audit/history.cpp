#include "tools/audit/history.h"

#include "domain/decide.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"

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

}  // namespace ledger::tools
