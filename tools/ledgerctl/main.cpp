// ledgerctl: the office's command line for the ledger, talking to ledgerd over TCP. Follows the
// product's help page: list customers, delete (with confirmation), manage deleted customers
// (undelete, edit), cleanup old customers (with confirmation; cannot be undone).
//
// Commands that change the ledger carry a request key and are sent again, with the same key,
// when the connection breaks before the answer: the ledger answers a key it has seen with the
// first outcome, so a retry never does a command twice.
//
// Exit codes: 0 done; 1 refused by the ledger; 2 usage; 3 cannot connect or not allowed.
// The subcommands live in their own files (command.h); this file parses and runs the chosen one.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ledger/client/client.h"
#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

using namespace ledger;
using namespace ledger::ledgerctl;

namespace {

constexpr std::size_t kMaxRequestKeyBytes = 64;

// What a retry looks like to the person at the terminal.
void tell_retry(const client::RetryNotice& notice) {
  switch (notice.why) {
    case client::RetryNotice::Why::kHelloRefused:
      std::cerr << "ledgerctl: the server is busy or stopping; sending the command again\n";
      break;
    case client::RetryNotice::Why::kRefused:
      std::cerr << "ledgerctl: " << notice.message << "; sending the command again\n";
      break;
    case client::RetryNotice::Why::kConnectionBroke:
      std::cerr << "ledgerctl: " << notice.message << "; sending the command again with the same request key\n";
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerctl: customers in the ledger, from the command line"};
  app.require_subcommand(1);
  Globals g;
  if (const char* env = std::getenv("LEDGER_SERVER")) g.client.server = env;
  if (const char* env = std::getenv("LEDGER_TOKEN")) g.token = env;
  app.add_option("--server", g.client.server, "HOST:PORT of ledgerd (LEDGER_SERVER)")->capture_default_str();
  app.add_option("--token", g.token, "token (LEDGER_TOKEN)");
  app.add_flag("--json", g.json, "print JSON");
  app.add_flag("--tls", g.client.tls, "connect with TLS");
  app.add_option("--tls-ca", g.client.tls_ca, "CA certificate (PEM) to verify the server; implies --tls");

  std::unique_ptr<Command> table[] = {
      make_create_command(),   make_edit_command(),    make_get_command(),   make_list_command(),
      make_delete_command(),   make_undelete_command(), make_cleanup_command(), make_history_command(),
      make_stats_command(),    make_watch_command(),   make_hash_token_command(),
  };
  // Every command that changes the ledger carries a request key; a script that passes its own
  // can run the same ledgerctl command again without doing it twice.
  std::optional<std::string> request_key;
  std::vector<std::pair<CLI::App*, Command*>> subcommands;
  for (auto& command : table) {
    auto* subcommand = command->add_to(app);
    if (command->changes_ledger()) {
      subcommand->add_option("--request-key", request_key,
                             "idempotency key (1-64 bytes): the same command again with the same key gets the first "
                             "outcome instead of being done twice (default: a random key, kept across retries)");
    }
    subcommands.emplace_back(subcommand, command.get());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  if (!g.client.tls_ca.empty()) g.client.tls = true;

  Command* chosen = nullptr;
  for (auto& [subcommand, command] : subcommands) {
    if (*subcommand) chosen = command;
  }
  if (chosen == nullptr) return kUsage;
  if (!chosen->needs_server()) return chosen->run_offline(g);

  if (request_key && (request_key->empty() || request_key->size() > kMaxRequestKeyBytes)) {
    std::cerr << "ledgerctl: --request-key must be 1 to " << kMaxRequestKeyBytes << " bytes, got "
              << request_key->size() << "\n";
    return kUsage;
  }
  if (!request_key) {
    try {
      request_key = client::new_request_key();
    } catch (const std::runtime_error&) {
    }
  }
  if (!request_key) {
    std::cerr << "ledgerctl: the random generator failed to make a request key; pass --request-key KEY\n";
    return kUsage;
  }

  if (auto stop = chosen->check(g)) return *stop;

  try {
    // Commands are sent again, with the same key, up to 5 tries, 0.25 s before the second and
    // doubling (the library's default RetryPolicy).
    client::Options options;
    options.connect = g.client;
    options.token = g.token;
    options.on_retry = tell_retry;
    client::Client session(options);
    if (session.refused()) return report_error(g, session.refused()->get().getError());
    return chosen->run(g, session, *request_key);
  } catch (const client::RetriesExhausted& e) {
    std::cerr << "ledgerctl: " << e.what() << ". The command may or may not have been done: run it again with "
              << "--request-key " << *request_key << " to find out without doing it twice\n";
    return kNoAccess;
  } catch (const client::ConnectionError& e) {
    std::cerr << "ledgerctl: " << e.what() << "\n";
    return kNoAccess;
  }
}
