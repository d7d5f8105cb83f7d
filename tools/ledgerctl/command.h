// ledgerctl's subcommands: what each one is (its flags, and what it does once connected) and the
// options every one of them shares. main.cpp holds the table of subcommands and runs the chosen
// one; each subcommand, or group of related ones, lives in its own file.
//
// Exit codes: 0 done; 1 refused by the ledger; 2 usage; 3 cannot connect or not allowed.
//
// Not thread-safe: ledgerctl runs one subcommand on one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "ledger/client/client.h"

namespace ledger::ledgerctl {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;
constexpr int kNoAccess = 3;

// The options before the subcommand: where the server is, the token, the output format.
struct Globals {
  client::ConnectOptions client;
  std::string token;
  bool json = false;
};

class Command {
 public:
  virtual ~Command() = default;

  // Adds the subcommand and its flags to `app`; returns the subcommand, which `app` owns.
  virtual CLI::App* add_to(CLI::App& app) = 0;
  // A command that changes the ledger carries a request key (--request-key).
  virtual bool changes_ledger() const { return false; }
  // Whether it talks to ledgerd; a command that does not is run by run_offline().
  virtual bool needs_server() const { return true; }

  // Checked before connecting: the exit code to stop with, or nullopt to go on.
  virtual std::optional<int> check(const Globals&) const { return std::nullopt; }
  // Runs the command over `session`; `request_key` is the key of a command that changes the
  // ledger. Returns the exit code. Client errors (ConnectionError, RetriesExhausted) propagate.
  virtual int run(const Globals& globals, client::Client& session, const std::string& request_key) = 0;
  // Runs a command that does not need the server. Returns the exit code.
  virtual int run_offline(const Globals&) { return kUsage; }
};

// The subcommands, in the order of the help text.
std::unique_ptr<Command> make_create_command();
std::unique_ptr<Command> make_edit_command();
std::unique_ptr<Command> make_get_command();
std::unique_ptr<Command> make_list_command();
std::unique_ptr<Command> make_delete_command();
std::unique_ptr<Command> make_undelete_command();
std::unique_ptr<Command> make_cleanup_command();
std::unique_ptr<Command> make_history_command();
std::unique_ptr<Command> make_stats_command();
std::unique_ptr<Command> make_watch_command();
std::unique_ptr<Command> make_hash_token_command();

}  // namespace ledger::ledgerctl
