#include "server/http_json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <kj/exception.h>

namespace ledger::server {
namespace {

// Nesting of the JSON text itself; the Request schema is at most four deep.
constexpr std::size_t kMaxJsonNesting = 16;

// Not movable: each use makes its own (the codec is cheap and not shared between threads).
struct Codec : capnp::JsonCodec {
  Codec() { setMaxNestingDepth(kMaxJsonNesting); }
};

kj::ArrayPtr<const char> chars(std::string_view text) { return kj::ArrayPtr<const char>(text.data(), text.size()); }

std::string json_string(std::string_view text) {
  capnp::JsonCodec codec;
  auto encoded = codec.encode(capnp::Text::Reader(text.data(), text.size()));
  return std::string(encoded.cStr(), encoded.size());
}

}  // namespace

JsonRequest::JsonRequest(Frame frame)
    : frame_(std::move(frame)), reader_(frame_, frame_reader_options(frame_.size())) {
  request_ = reader_.getRoot<protocol::Request>();
  // Walks every pointer once, as the TCP connection does: limits are enforced here.
  (void)request_.totalSize();
}

std::variant<std::unique_ptr<JsonRequest>, JsonProblem> request_from_json(std::string_view json,
                                                                         const FrameLimits& limits) {
  Frame frame;
  try {
    Codec codec;
    capnp::MallocMessageBuilder message;
    codec.decode(chars(json), message.initRoot<protocol::Request>());
    frame = capnp::messageToFlatArray(message);
  } catch (const kj::Exception& e) {
    return JsonProblem{protocol::ErrorCode::BAD_REQUEST,
                       std::string("the body is not a Request in JSON: ") + e.getDescription().cStr()};
  }
  const auto bytes = frame.size() * sizeof(capnp::word);
  if (bytes > limits.max_bytes) {
    return JsonProblem{protocol::ErrorCode::TOO_LARGE,
                       "the request is larger than a frame may be (" + std::to_string(limits.max_bytes) + " bytes)"};
  }
  try {
    return std::make_unique<JsonRequest>(std::move(frame));
  } catch (const kj::Exception&) {
    return JsonProblem{protocol::ErrorCode::BAD_REQUEST, "the request breaks the message limits"};
  }
}

std::string response_json(const Frame& frame) {
  capnp::FlatArrayMessageReader reader(frame);
  auto encoded = Codec().encode(reader.getRoot<protocol::Response>());
  return std::string(encoded.cStr(), encoded.size());
}

std::optional<std::string> token_from_json(std::string_view json) {
  try {
    capnp::MallocMessageBuilder message(64);
    auto hello = message.initRoot<protocol::Hello>();
    Codec().decode(chars(json), hello);
    auto token = hello.asReader().getToken();
    return std::string(token.cStr(), token.size());
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

std::string welcome_json(const Principal& principal) {
  capnp::MallocMessageBuilder message(64);
  auto welcome = message.initRoot<protocol::Welcome>();
  welcome.setPrincipal(principal.name);
  welcome.setRole(static_cast<protocol::Role>(static_cast<std::uint16_t>(principal.role)));
  auto encoded = Codec().encode(welcome.asReader());
  return std::string(encoded.cStr(), encoded.size());
}

std::string error_json(std::string_view code, std::string_view message) {
  return "{\"error\":{\"code\":" + json_string(code) + ",\"message\":" + json_string(message) + "}}";
}

}  // namespace ledger::server
