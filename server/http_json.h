// The JSON form of the protocol: a Request as JSON in, a Response as JSON out, through Cap'n
// Proto's own JSON codec (capnp/compat/json.h), so the JSON API mirrors server/protocol.capnp
// field for field and has no schema of its own. A decoded request becomes a frame and is checked
// as a TCP frame is (FrameLimits, frame_reader_options), then read by the same RequestHandler.
//
// Thread-safe: free functions, no shared state.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <capnp/serialize.h>

#include "server/frame_parser.h"
#include "server/protocol.capnp.h"
#include "server/request_handler.h"

namespace ledger::server {

// A request body that is not a valid Request: what the client is told.
struct JsonProblem {
  protocol::ErrorCode code;  // badRequest, or tooLarge for a message beyond the frame limits
  std::string message;
};

// A decoded request: its frame and a reader over it, checked (every pointer walked once with
// the TCP frame's reader limits). The reader points into `frame`; keep them together.
class JsonRequest {
 public:
  explicit JsonRequest(Frame frame);
  protocol::Request::Reader request() const { return request_; }

 private:
  Frame frame_;
  capnp::FlatArrayMessageReader reader_;
  protocol::Request::Reader request_;
};

// Decodes `json` (a Request) into a frame no larger than `limits` allows. Unknown member names
// are ignored (the codec's default, for schema evolution); 64-bit integers may be given as
// strings or numbers. Returns the problem for bytes that are not a valid Request.
std::variant<std::unique_ptr<JsonRequest>, JsonProblem> request_from_json(std::string_view json,
                                                                         const FrameLimits& limits);

// The JSON of a Response frame that the handler built (word-aligned, trusted).
std::string response_json(const Frame& frame);

// A Hello (the login body) from JSON; nullopt when the body is not one.
std::optional<std::string> token_from_json(std::string_view json);

// {"principal": ..., "role": ...}: a Welcome as the codec writes it.
std::string welcome_json(const Principal& principal);

// The error body of an HTTP-level refusal: {"error":{"code":CODE,"message":MESSAGE}}, the same
// shape as a Response's error.
std::string error_json(std::string_view code, std::string_view message);

}  // namespace ledger::server
