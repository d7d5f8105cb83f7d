// ledger::client::Client: a blocking session with ledgerd. Connects, says hello with a
// token, numbers requests itself, pipelines (send several, then receive), and sends a command
// again with the same request key when the connection breaks before its answer or the server
// answers busy or shuttingDown (RetryPolicy: bounded tries, doubling pauses).
//
//   ledger::client::Client ledger({.connect = {.server = "127.0.0.1:7400"}, .token = "secret"});
//   auto reply = ledger.command(ledger::client::new_request_key(), [](auto r) {
//     r.initCreate().initFields().setName("Ada");
//   });
//   if (auto refusal = reply.refusal()) std::cerr << refusal->describe() << "\n";
//
// Not thread-safe: one thread uses a client. Use AsyncClient to drive many from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ledger/client/connection.h"
#include "ledger/client/retry.h"

namespace ledger::client {

struct Options {
  ConnectOptions connect;
  std::string token;  // sent in the hello; a ledgerd without --tokens takes any
  RetryPolicy retry;
  RetryObserver on_retry;  // optional
};

// The retries ran out; what() ends with "gave up after N tries". The command may or may not
// have been done: sending it again with the same key finds out without doing it twice.
class RetriesExhausted : public ConnectionError {
 public:
  RetriesExhausted(const std::string& last_error, int attempts);
  int attempts() const { return attempts_; }

 private:
  int attempts_;
};

// Fills a Request's union (and anything else but the id, which the client sets).
using RequestFill = std::function<void(protocol::Request::Builder)>;

class Client {
 public:
  // Connects and says hello. Throws ConnectionError when it cannot connect. A refused hello
  // (an unknown token, a server with too many connections) is not thrown: refused() holds
  // the answer, and every request but command() then throws ConnectionError.
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The hello's answer when it was an error (refused()->refusal() has it typed); nullopt after
  // a welcome.
  const std::optional<Reply>& refused() const { return refused_; }
  // From the welcome.
  const std::string& principal() const { return principal_; }
  protocol::Role role() const { return role_; }

  // Sends a request and waits for its response (or an error about the connection, id 0).
  // Responses to other requests that arrive meanwhile are dropped: pipeline with send/receive.
  // No retry. Throws ConnectionError when the connection breaks or there is none.
  Reply call(const RequestFill& fill);

  // Sends a command carrying `request_key` (1-64 bytes). When the connection breaks before
  // the answer, or the answer is busy or shuttingDown, waits (RetryPolicy), connects and says
  // hello again, and sends the same command with the same key. Returns the first answer that
  // is not busy or shuttingDown, or the last one; throws RetriesExhausted when the last try
  // broke. Like call(), other responses arriving meanwhile are dropped.
  Reply command(const std::string& request_key, const RequestFill& fill);

  // Pipelining: sends without waiting and returns the id the request got. Throws
  // ConnectionError.
  std::uint64_t send(const RequestFill& fill);
  // The same, but kept until flush() (or the next send) writes every queued request in one
  // write (Connection::queue). Throws ConnectionError when there is no connection.
  std::uint64_t queue(const RequestFill& fill);
  // Writes the queued requests, if any. Throws ConnectionError.
  void flush();
  // The next response, whatever its id (a subscription sends many with its request's id).
  // Throws ConnectionError when the connection closes first.
  Reply receive();
  // After receive(): whether the next response is already read (Connection::reply_buffered).
  bool reply_buffered();

  // The connection underneath, for raw bytes; throws ConnectionError when there is none.
  Connection& connection();

 private:
  // Connects and says hello; returns the refusal, if any.
  std::optional<Reply> open();
  Reply call_on_connection(protocol::Request::Builder request, capnp::MallocMessageBuilder& message);
  // Numbers a request, fills it and hands it to the connection's `write` (send or queue).
  std::uint64_t build(const RequestFill& fill, void (Connection::*write)(capnp::MessageBuilder&));

  Options options_;
  std::unique_ptr<Connection> connection_;  // null after the connection broke
  std::uint64_t next_id_ = 1;
  std::optional<Reply> refused_;
  std::string principal_;
  protocol::Role role_ = protocol::Role::CLERK;
};

// 16 bytes from OpenSSL's random generator as 32 hex digits: a fresh request key. Throws
// std::runtime_error when the generator fails.
std::string new_request_key();

}  // namespace ledger::client
