// ledger::client::AsyncClient: a session with ledgerd on an Asio executor. Requests are
// pipelined on one connection: each gets an id, the server answers in any order, and each
// answer completes the operation that sent it. async_command sends a command again with the
// same request key after a broken connection, busy or shuttingDown (RetryPolicy), connecting
// and saying hello again as needed.
//
// Every operation takes an Asio completion token and completes with
// (std::exception_ptr, Reply): a callback gets both, asio::use_awaitable and asio::use_future
// throw the exception (ConnectionError, RetriesExhausted). A refusal is a Reply, not an
// exception (Reply::refusal()).
//
//   ledger::client::AsyncClient ledger(io.get_executor(), options);   // in a coroutine:
//   co_await ledger.async_connect(asio::use_awaitable);
//   auto reply = co_await ledger.async_call([](auto r) { r.initGet().setNumber(1); }, asio::use_awaitable);
//
// An operation awaited with use_awaitable starts when it is awaited; to have many in flight
// at once, start them with a callback each (or asio::use_future).
//
// Not thread-safe: use it from one thread (the executor's) or a strand. Operations in flight
// hold the session's state, so the client may be destroyed before they complete: they then
// fail with ConnectionError, and a command is not tried again.
#pragma once

#include <exception>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include "ledger/client/client.h"

namespace ledger::client {

class AsyncClient {
 public:
  AsyncClient(boost::asio::any_io_executor executor, Options options);
  // Closes the connection; operations in flight fail with ConnectionError.
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Connects and says hello; completes with the hello's answer (welcome, or the refusal).
  // ConnectionError when it cannot connect.
  template <typename Token>
  auto async_connect(Token&& token) {
    return boost::asio::co_spawn(executor_, connect_op(state_), std::forward<Token>(token));
  }

  // Sends a request (fill sets the union; the id is the client's) and completes with its
  // answer, or with an error about the connection (id 0). ConnectionError when the connection
  // breaks first or there is none. Many may be in flight at once.
  template <typename Token>
  auto async_call(const RequestFill& fill, Token&& token) {
    return boost::asio::co_spawn(executor_, call_op(state_, build(fill)), std::forward<Token>(token));
  }

  // As Client::command: the same command with the same key until it is answered with
  // anything but busy or shuttingDown, at most RetryPolicy::attempts tries; RetriesExhausted
  // when the last try broke. Commands in flight together share one reconnection.
  template <typename Token>
  auto async_command(const std::string& request_key, const RequestFill& fill, Token&& token) {
    return boost::asio::co_spawn(executor_, command_op(state_, request_key, fill), std::forward<Token>(token));
  }

  // From the welcome; empty before it.
  const std::string& principal() const;
  // Ends the session: closes the connection now; operations in flight and later ones fail with
  // ConnectionError, and commands are not tried again.
  void close();

  struct State;

 private:
  std::shared_ptr<capnp::MallocMessageBuilder> build(const RequestFill& fill) const;
  static boost::asio::awaitable<Reply> connect_op(std::shared_ptr<State> state);
  static boost::asio::awaitable<Reply> call_op(std::shared_ptr<State> state,
                                               std::shared_ptr<capnp::MallocMessageBuilder> message);
  static boost::asio::awaitable<Reply> command_op(std::shared_ptr<State> state, std::string request_key,
                                                  RequestFill fill);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<State> state_;
};

}  // namespace ledger::client
