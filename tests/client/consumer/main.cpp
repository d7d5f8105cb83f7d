// Links ledger::client from an install prefix and uses it: nobody listens on port 1, which the
// client reports as CannotConnect.
#include <iostream>

#include <ledger/client/client.h>

int main() {
  ledger::client::Options options;
  options.connect.server = "127.0.0.1:1";
  try {
    ledger::client::Client ledger(options);
  } catch (const ledger::client::CannotConnect&) {
    std::cout << "no ledgerd on 127.0.0.1:1\n";
    return 0;
  }
  return 1;
}
