// watch: the log's entries as they are written, until interrupted.
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <capnp/message.h>
#include <fmt/format.h>

#include "domain/events.h"
#include "tools/common/log_json.h"
#include "tools/common/server_session.h"
#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

class WatchCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* watch = app.add_subcommand("watch", "print log entries as they are written (Ctrl-C to stop)");
    watch->add_option("--from", from_seq_, "first seq to print")->capture_default_str();
    return watch;
  }

  int run(const Globals& g, client::Client& session, const std::string&) override {
    capnp::MallocMessageBuilder message;
    auto request = client::new_request(message, 1000);
    request.initSubscribe().setFromSeq(from_seq_);
    session.connection().send(message);
    for (;;) {
      auto reply = session.connection().receive();
      auto r = reply.get();
      if (r.isError()) return report_error(g, r.getError());
      if (!r.isEntry()) continue;
      auto e = r.getEntry();
      json::object o;
      try {
        auto envelope = tools::envelope_from(e);
        // watch has always shown entries without their request key.
        envelope.request.clear();
        o = tools::envelope_json(envelope);
      } catch (const std::exception&) {
        o = json::object{{"seq", e.getSeq()}, {"error", "payload not readable"}};
      }
      if (g.json) {
        print_json(o);
      } else {
        std::cout << fmt::format("{:>8}  {}  {:<18} customer {}{}\n", e.getSeq(), tools::format_time(e.getAt()),
                                 domain::kind_name(static_cast<domain::EventKind>(e.getKind())), e.getCustomer(),
                                 e.getRedactedBy() != 0 ? fmt::format(" (erased by {})", e.getRedactedBy()) : "");
      }
      std::cout.flush();
    }
  }

 private:
  std::uint64_t from_seq_ = 1;
};

}  // namespace

std::unique_ptr<Command> make_watch_command() { return std::make_unique<WatchCommand>(); }

}  // namespace ledger::ledgerctl
