#include "ledger/client/client.h"

#include <array>
#include <thread>

#include <openssl/rand.h>

namespace ledger::client {
namespace {

bool retryable(const Reply& reply) {
  return reply.get().isError() && is_retryable(reply.get().getError().getCode());
}

}  // namespace

RetriesExhausted::RetriesExhausted(const std::string& last_error, int attempts)
    : ConnectionError(last_error + "; gave up after " + std::to_string(attempts) + " tries"), attempts_(attempts) {}

Client::Client(Options options) : options_(std::move(options)) {
  refused_ = open();
}

Client::~Client() = default;

std::optional<Reply> Client::open() {
  connection_.reset();
  auto connection = std::make_unique<Connection>(options_.connect);
  capnp::MallocMessageBuilder message;
  new_request(message, next_id_++).initHello().setToken(options_.token);
  auto reply = connection->call(message);
  if (reply.get().isError()) return reply;
  auto welcome = reply.get().getWelcome();
  principal_.assign(welcome.getPrincipal().cStr(), welcome.getPrincipal().size());
  role_ = welcome.getRole();
  connection_ = std::move(connection);
  return std::nullopt;
}

Connection& Client::connection() {
  if (!connection_) throw ConnectionError("not connected to the server");
  return *connection_;
}

Reply Client::call(const RequestFill& fill) {
  auto& connection = this->connection();
  capnp::MallocMessageBuilder message;
  fill(new_request(message, next_id_++));
  return connection.call(message);
}

std::uint64_t Client::send(const RequestFill& fill) { return build(fill, &Connection::send); }

std::uint64_t Client::queue(const RequestFill& fill) { return build(fill, &Connection::queue); }

std::uint64_t Client::build(const RequestFill& fill, void (Connection::*write)(capnp::MessageBuilder&)) {
  auto& connection = this->connection();
  capnp::MallocMessageBuilder message;
  const auto id = next_id_++;
  fill(new_request(message, id));
  (connection.*write)(message);
  return id;
}

void Client::flush() { connection().flush(); }

Reply Client::receive() { return connection().receive(); }

bool Client::reply_buffered() { return connection().reply_buffered(); }

Reply Client::command(const std::string& request_key, const RequestFill& fill) {
  const int attempts = std::max(1, options_.retry.attempts);
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == attempts;
    std::optional<RetryNotice> notice;
    try {
      if (!connection_) {
        if (auto refused = open()) {
          if (last || !retryable(*refused)) return std::move(*refused);
          notice = RetryNotice{RetryNotice::Why::kHelloRefused, attempt + 1, refused->get().getError().getMessage().cStr()};
        }
      }
      if (!notice) {
        auto reply = call([&](protocol::Request::Builder r) {
          r.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(request_key.data()), request_key.size()));
          fill(r);
        });
        if (last || !retryable(reply)) return reply;
        // Busy about the connection itself (id 0) or shutting down: the server closes this one.
        if (reply.get().getId() == 0 || reply.get().getError().getCode() == protocol::ErrorCode::SHUTTING_DOWN) {
          connection_.reset();
        }
        notice = RetryNotice{RetryNotice::Why::kRefused, attempt + 1, reply.get().getError().getMessage().cStr()};
      }
    } catch (const ConnectionError& e) {
      connection_.reset();
      if (last) throw RetriesExhausted(e.what(), attempts);
      notice = RetryNotice{RetryNotice::Why::kConnectionBroke, attempt + 1, e.what()};
    }
    if (options_.on_retry) options_.on_retry(*notice);
    std::this_thread::sleep_for(options_.retry.pause_before(attempt + 1));
  }
}

std::string new_request_key() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("the random generator failed to make a request key");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (auto b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace ledger::client
