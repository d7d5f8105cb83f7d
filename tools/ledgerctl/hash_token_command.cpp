// hash-token: a token read on stdin, printed as the SHA-256 a tokens file stores. Needs no server.
#include <iostream>
#include <string>

#include "server/token_hash.h"
#include "tools/ledgerctl/command.h"

namespace ledger::ledgerctl {

namespace {

class HashTokenCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    return app.add_subcommand("hash-token", "read a token on stdin, print its SHA-256 for a tokens file");
  }
  bool needs_server() const override { return false; }

  int run(const Globals&, client::Client&, const std::string&) override { return kUsage; }
  int run_offline(const Globals&) override {
    std::string token;
    std::getline(std::cin, token);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    if (token.empty()) {
      std::cerr << "ledgerctl: no token on stdin\n";
      return kUsage;
    }
    std::cout << server::token_hash_hex(token) << "\n";
    return kDone;
  }
};

}  // namespace

std::unique_ptr<Command> make_hash_token_command() { return std::make_unique<HashTokenCommand>(); }

}  // namespace ledger::ledgerctl
