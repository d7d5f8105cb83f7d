// ServerSession: ledger-audit's and ledger-admin's connection to ledgerd for their --server
// mode: connect, say hello with the token, send requests one at a time. Access problems (no
// connection, an unknown token, a role that may not send a request) become AccessError, which
// the tools report with exit status 3, as ledgerctl does.
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
#include "tools/ledgerctl_client.h"

namespace ledger::tools {

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

  // Sends a request that `fill(Request::Builder)` fills, waits for its reply and returns it.
  // Throws AccessError when the connection breaks or the server answers forbidden or
  // unauthenticated; other errors are returned for the caller to report.
  template <typename Fill>
  Reply call(Fill fill) {
    capnp::MallocMessageBuilder message;
    auto request = new_request(message, next_id_++);
    fill(request);
    return checked(call_message(message));
  }

  // Sends without waiting; the caller receives the replies (matched by the id returned).
  template <typename Fill>
  std::uint64_t send(Fill fill) {
    capnp::MallocMessageBuilder message;
    const auto id = next_id_++;
    auto request = new_request(message, id);
    fill(request);
    send_message(message);
    return id;
  }
  // The next response, checked as call() checks it.
  Reply receive();

  // Every customer of the active (or deleted) list, in number order, read page by page.
  std::vector<domain::Customer> list_all(bool deleted);
  // The server's next log seq (stats).
  std::uint64_t next_seq();

  const std::string& principal() const { return principal_; }

 private:
  Reply call_message(capnp::MessageBuilder& message);
  void send_message(capnp::MessageBuilder& message);
  Reply checked(Reply reply);

  std::string role_needed_;
  std::unique_ptr<LedgerClient> client_;
  std::uint64_t next_id_ = 1;
  std::string principal_;
};

// One line: the error's message, the field it names and each number's problem.
std::string describe_error(protocol::Error::Reader error);

domain::Customer customer_from(protocol::Customer::Reader customer);
// A received log entry as the envelope the server stores.
eventstore::Envelope envelope_from(protocol::Entry::Reader entry);

}  // namespace ledger::tools
