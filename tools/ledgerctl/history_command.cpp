// history: every event of one customer, as ledger-audit prints a history.
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"
#include "server/wire_fields.h"
#include "tools/common/history_format.h"
#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

std::string_view field_key(protocol::Field field) {
  const auto known = server::domain_field(field);
  return known ? domain::field_name(*known) : "unknown";
}

class HistoryCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* history = app.add_subcommand("history", "every event of one customer");
    history->add_option("NUMBER", number_, "customer number")->required();
    return history;
  }

  int run(const Globals& g, client::Client& session, const std::string&) override {
    auto reply = session.call([&](auto r) { r.initHistory().setNumber(number_); });
    if (reply.get().isError()) return report_error(g, reply.get().getError());
    std::vector<tools::HistoryStep> steps;
    json::array events;
    for (auto e : reply.get().getHistory().getEvents()) {
      tools::HistoryStep step{e.getSeq(), e.getAt(), e.getActor().cStr(), e.getKind().cStr(), 0, {}};
      for (auto changed : e.getChangedFields()) {
        step.changes.push_back({std::string(field_key(changed.getField())), changed.getOldValue().cStr(),
                                changed.getNewValue().cStr()});
      }
      json::object o{{"seq", step.seq}, {"at", step.at_us}, {"actor", step.actor}, {"kind", step.kind}};
      // Each changed field's new value under its own name, as before old values were sent.
      for (auto change : e.getChanges()) o[field_key(change.getField())] = change.getValue().cStr();
      json::array changes;
      for (const auto& delta : step.changes) changes.push_back(tools::delta_json(delta));
      o["changes"] = std::move(changes);
      events.push_back(std::move(o));
      steps.push_back(std::move(step));
    }
    if (g.json) {
      print_json(json::object{{"events", events}});
    } else {
      std::cout << tools::history_text(steps);
    }
    return kDone;
  }

 private:
  std::uint64_t number_ = 0;
};

}  // namespace

std::unique_ptr<Command> make_history_command() { return std::make_unique<HistoryCommand>(); }

}  // namespace ledger::ledgerctl
