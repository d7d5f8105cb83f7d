// LedgerdClient: a test's connection to a real ledgerd (tests/support/ledgerd_process.h) that has
// said hello and numbers its requests itself, 1 for the hello and one more for each request built
// after it, so that a test knows every request's id: it can compare an answer with another id
// for id, or write several frames at once and match their answers. Requests are built from the
// protocol's generated code (server/protocol.capnp, the published schema) on the ledger's own
// client connection (ledger/client/connection.h), which neither retries nor says hello again:
// what the test sends is what ledgerd reads. For tests only; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <capnp/message.h>
#include <catch2/catch.hpp>

#include "ledger/client/client.h"
#include "ledger/client/connection.h"
#include "support/ledger_calls.h"
#include "tools/common/ledgerd_process.h"

namespace ledger::testing {

class LedgerdClient {
 public:
  // Connects to `server` without TLS and says hello with an empty token. Throws
  // client::ConnectionError when it cannot connect, std::runtime_error when the hello is refused.
  explicit LedgerdClient(const tools::LedgerdProcess& server)
      : connection_(client::ConnectOptions{server.address(), false, {}}) {
    hello(connection_);
  }

  // Sends the request `fill` builds, with `request_key` unless it is empty, and waits for the
  // answer with its id (client::Connection::call). Throws client::ConnectionError.
  client::Reply call(const std::string& request_key, const client::RequestFill& fill) {
    auto message = build(request_key, fill);
    return connection_.call(*message);
  }
  client::Reply call(const client::RequestFill& fill) { return call({}, fill); }

  // The next request, numbered but not sent: for frames the test writes itself.
  std::unique_ptr<capnp::MallocMessageBuilder> build(const std::string& request_key, const client::RequestFill& fill) {
    return request_message(++last_id_, [&](protocol::Request::Builder r) {
      if (!request_key.empty()) {
        r.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(request_key.data()), request_key.size()));
      }
      fill(r);
    });
  }

  // The id of the last request built (1: the hello).
  std::uint64_t last_id() const { return last_id_; }

  // The connection underneath: raw bytes out, every response in (a subscription's entries).
  client::Connection& connection() { return connection_; }

 private:
  client::Connection connection_;
  std::uint64_t last_id_ = 1;  // hello() sends request 1
};

// Creates a customer with a name and an e-mail address through `client`; its number.
inline std::uint64_t create_customer(LedgerdClient& client, const std::string& name, const std::string& email) {
  auto reply = client.call([&](protocol::Request::Builder r) {
    auto fields = r.initCreate().initFields();
    fields.setName(name);
    fields.setEmail(email);
  });
  REQUIRE(reply.get().isWritten());
  return reply.get().getWritten().getNumber();
}

// Deletes the customer `number` through `client`.
inline void delete_customer(LedgerdClient& client, std::uint64_t number) {
  REQUIRE(client.call([&](protocol::Request::Builder r) { r.initDelete().initNumbers(1).set(0, number); }).get().isChanged());
}

// Purges the deleted customers through `client` (confirmed), waiting for the erasure report or
// not; the answer, which must be `purged`.
inline client::Reply purge_deleted(LedgerdClient& client, bool wait) {
  auto reply = client.call([&](protocol::Request::Builder r) {
    auto purge = r.initPurge();
    purge.setConfirm(true);
    purge.setWait(wait);
  });
  INFO(kj::str(reply.get()).cStr());
  REQUIRE(reply.get().isPurged());
  return reply;
}

}  // namespace ledger::testing
