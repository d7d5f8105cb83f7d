// RequestHandler: turns one decoded protocol Request into a Response for a session. Knows no
// sockets: the connection gives it the request, the session's state and two functions — one to
// run work later on the connection's strand, one to send a response frame from there — so tests
// can drive it without a network.
//
// Commands go to the CommandService's writer; its callback only posts the outcome back to the
// connection (the writer never waits on a socket). Reads run on the calling thread.
// Thread-safe: one handler serves every connection; per-connection state lives in Session.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <capnp/message.h>
#include <kj/array.h>

#include "eventstore/envelope.h"
#include "eventstore/erasure_report.h"
#include "server/api_metrics.h"
#include "server/command_service.h"
#include "server/protocol.capnp.h"
#include "server/tokens.h"

namespace ledger::server {

using Frame = kj::Array<capnp::word>;

// The state of one connection that the handler reads and changes.
struct Session {
  // Set by a successful hello; every other request needs it.
  std::optional<Principal> principal;
};

// Asked for the report of the purge at `purge_seq` when a client waits for it; calls `done`
// exactly once, from any thread, with the report (state kPending when the wait ended first).
// ledgerd's is CommandService::await_erasure; the default answers pending at once.
using ErasureWait =
    std::function<void(std::uint64_t purge_seq, std::function<void(eventstore::ErasureReport)> done)>;
ErasureWait erasure_not_awaited();

struct Handled {
  Handled() = default;
  Handled(Frame frame, bool close_after = false, std::optional<std::uint64_t> from = std::nullopt)
      : response(std::move(frame)), close(close_after), subscribe_from(from) {}

  // The response to send now; null when the answer comes later through `send`.
  Frame response = nullptr;
  // Close the connection after sending the response (failed hello, no hello).
  bool close = false;
  // Subscribe: stream the log from this seq after the response.
  std::optional<std::uint64_t> subscribe_from;
};

class RequestHandler {
 public:
  // Runs `task` later on the connection's strand; must not block. Callable from any thread.
  using Dispatch = std::function<void(std::function<void()> task)>;
  // Sends a response frame; called on the connection's strand (from a dispatched task).
  using Send = std::function<void(Frame)>;

  // "*service" and "*tokens" must outlive the handler. `connections` reports how many are
  // open, for stats. "*metrics" (optional) counts every request answered, TCP and HTTP alike,
  // and must outlive the handler.
  RequestHandler(CommandService& service, const TokenTable& tokens, ErasureWait erasure_wait,
                 std::function<std::uint32_t()> connections = {}, RequestMetrics* metrics = nullptr);

  // Whether the connection holds more of the client's requests when it hands over one.
  enum class Arrival {
    kAlone,     // nothing else is buffered or readable: a command may be written on the calling
                // thread (CommandService::Submit::kWriteIfAlone)
    kFollowed,  // more bytes are buffered or readable: a command is queued for the writer
                // thread, so that the requests behind it share its group commit
  };

  // Handles a request whose message has been validated (frame_reader_options). Never throws
  // for bad input: malformed fields give a badRequest or invalidField error response.
  Handled handle(const protocol::Request::Reader& request, Session& session, const Dispatch& dispatch, Send send,
                 Arrival arrival = Arrival::kAlone) const;

  eventstore::Database& database() const { return service_.database(); }

  // A response with only an error.
  static Frame error_frame(std::uint64_t id, protocol::ErrorCode code, std::string_view message);
  // One log entry for a subscriber, as response `id`.
  static Frame entry_frame(std::uint64_t id, const eventstore::Envelope& envelope);

 private:
  Handled answer(const protocol::Request::Reader& request, Session& session, const Dispatch& dispatch, Send send,
                 Arrival arrival) const;
  Handled hello(std::uint64_t id, protocol::Hello::Reader hello, Session& session) const;
  Handled read(const protocol::Request::Reader& request) const;
  // Hands a translated command to the service; its answer, `id`, comes later through `send`.
  void submit(std::uint64_t id, protocol::Request::Which kind, domain::Command command, RequestContext context,
              bool wait_for_erasure, const Dispatch& dispatch, Send send, Arrival arrival) const;

  CommandService& service_;
  const TokenTable& tokens_;
  ErasureWait erasure_wait_;
  std::function<std::uint32_t()> connections_;
  RequestMetrics* metrics_;
};

}  // namespace ledger::server
