// watch: the log's entries as they are written, until interrupted.
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <capnp/message.h>
#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/crypto.h"
#include "tools/common/json_format.h"
#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

std::string_view view_of(capnp::Data::Reader bytes) {
  return {reinterpret_cast<const char*>(bytes.begin()), bytes.size()};
}

std::string_view view_of(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

// The entry as `ledger-audit export` writes a stored one, but without its request key, which
// watch has never shown; nullopt when its digest or chain is not 32 bytes or its payload is not
// an event.
std::optional<json::object> entry_object(protocol::Entry::Reader e) {
  tools::EntryView entry{.seq = e.getSeq(),
                         .at_us = e.getAt(),
                         .actor = view_of(e.getActor()),
                         .request = {},
                         .customer = e.getCustomer(),
                         .number = e.getNumber(),
                         .kind = e.getKind(),
                         .digest = {},
                         .chain = {},
                         .redacted_by = e.getRedactedBy()};
  if (!eventstore::digest_from(view_of(e.getDigest()), entry.digest) ||
      !eventstore::digest_from(view_of(e.getChain()), entry.chain)) {
    return std::nullopt;
  }
  if (entry.redacted()) return tools::entry_json(entry, nullptr);
  auto event = domain::decode_event(view_of(e.getPayload()));
  if (!event) return std::nullopt;
  return tools::entry_json(entry, &event.value());
}

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
      if (g.json) {
        print_json(entry_object(e).value_or(json::object{{"seq", e.getSeq()}, {"error", "payload not readable"}}));
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
