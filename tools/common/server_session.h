// ServerSession: ledger-audit's and ledger-admin's session with ledgerd for their --server
// mode, on the C++ client (ledger::client::Client, clients/cpp): say hello with the token,
// send requests. What it adds is the tools' view of access: no connection, an unknown token,
// or a role that may not send a request becomes AccessError, which the tools report with exit
// status 3, as ledgerctl does; and the ledger's own types for what the server sends.
//
// Not thread-safe: one thread uses a session.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/customer.h"
#include "eventstore/envelope.h"
#include "ledger/client/client.h"

namespace ledger::tools {

using ClientOptions = client::ConnectOptions;
using client::Reply;

// The server cannot be reached, refused the token, or refused a request to this role.
class AccessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ServerSession {
 public:
  // Connects to `server.server` (HOST:PORT; TLS as `server` says) and says hello with `token`.
  // Throws AccessError when it cannot connect or the token is refused. `role_needed` begins the
  // message of a forbidden request ("purge through --server needs an admin token").
  ServerSession(const ClientOptions& server, const std::string& token, std::string role_needed);
  ServerSession(ServerSession&&) noexcept;
  ~ServerSession();

  // Sends a request that `fill(Request::Builder)` fills, waits for its reply and returns it.
  // Throws AccessError when the connection breaks or the server answers forbidden or
  // unauthenticated; other errors are returned for the caller to report.
  Reply call(const client::RequestFill& fill);
  // Sends without waiting; the caller receives the replies (matched by the id returned).
  std::uint64_t send(const client::RequestFill& fill);
  // The next response, checked as call() checks it.
  Reply receive();

  // Every customer of the active (or deleted) list, in number order, read page by page.
  std::vector<domain::Customer> list_all(bool deleted);
  // The server's next log seq (stats).
  std::uint64_t next_seq();

  const std::string& principal() const { return client_->principal(); }

 private:
  Reply checked(Reply reply);

  std::string role_needed_;
  std::unique_ptr<client::Client> client_;
};

// One line: the error's message, the field it names and each number's problem.
std::string describe_error(protocol::Error::Reader error);

domain::Customer customer_from(protocol::Customer::Reader customer);
// A received log entry as the envelope the server stores.
eventstore::Envelope envelope_from(protocol::Entry::Reader entry);

}  // namespace ledger::tools
