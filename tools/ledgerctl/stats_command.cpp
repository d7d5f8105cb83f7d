// stats: the server's counters.
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

class StatsCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override { return app.add_subcommand("stats", "server statistics"); }

  int run(const Globals& g, client::Client& session, const std::string&) override {
    auto reply = session.call([&](auto r) { r.setStats(); });
    if (reply.get().isError()) return report_error(g, reply.get().getError());
    auto s = reply.get().getStats();
    json::object o{{"next_seq", s.getNextSeq()}, {"batches", s.getBatches()},      {"commands", s.getCommands()},
                   {"connections", s.getConnections()}, {"active", s.getActive()}, {"deleted", s.getDeleted()}};
    if (g.json) {
      print_json(o);
    } else {
      for (auto& [key, value] : o) std::cout << fmt::format("{:<12} {}\n", std::string(key) + ":", json::serialize(value));
    }
    return kDone;
  }
};

}  // namespace

std::unique_ptr<Command> make_stats_command() { return std::make_unique<StatsCommand>(); }

}  // namespace ledger::ledgerctl
