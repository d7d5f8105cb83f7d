#include "tools/common/server_session.h"

#include <capnp/schema.h>
#include <fmt/format.h>

#include "eventstore/crypto.h"

namespace ledger::tools {
namespace {

using protocol::ErrorCode;

// The server's list pages hold at most this many customers.
constexpr std::uint32_t kPageSize = 1000;

std::string code_name(ErrorCode code) {
  for (auto e : capnp::Schema::from<ErrorCode>().getEnumerants()) {
    if (e.getOrdinal() == static_cast<std::uint16_t>(code)) return e.getProto().getName();
  }
  return "unknown";
}

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::string bytes(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

}  // namespace

std::string describe_error(protocol::Error::Reader error) {
  std::string line = text(error.getMessage());
  if (error.getField().size() > 0) line += fmt::format(" (field: {})", text(error.getField()));
  for (auto problem : error.getNumbers()) line += fmt::format("; {}: {}", problem.getNumber(), code_name(problem.getCode()));
  return line;
}

ServerSession::ServerSession(const ClientOptions& server, const std::string& token, std::string role_needed)
    : role_needed_(std::move(role_needed)), client_([&] {
        try {
          return std::make_unique<LedgerClient>(server);
        } catch (const ConnectionError& error) {
          throw AccessError(error.what());
        }
      }()) {
  auto hello = [&] {
    capnp::MallocMessageBuilder message;
    new_request(message, next_id_++).initHello().setToken(token);
    try {
      return checked(client_->call(message));
    } catch (const ConnectionError& error) {
      // A TLS-only server closes a plain connection without a word.
      throw AccessError(std::string(error.what()) + (server.tls ? "" : "; if it speaks TLS, pass --tls or --tls-ca CERT"));
    }
  };
  auto reply = hello();
  if (reply.get().isError()) throw AccessError("the server refused the hello: " + describe_error(reply.get().getError()));
  principal_ = text(reply.get().getWelcome().getPrincipal());
}

Reply ServerSession::call_message(capnp::MessageBuilder& message) {
  try {
    return client_->call(message);
  } catch (const ConnectionError& error) {
    throw AccessError(error.what());
  }
}

void ServerSession::send_message(capnp::MessageBuilder& message) {
  try {
    client_->send(message);
  } catch (const ConnectionError& error) {
    throw AccessError(error.what());
  }
}

Reply ServerSession::receive() {
  try {
    return checked(client_->receive());
  } catch (const ConnectionError& error) {
    throw AccessError(error.what());
  }
}

Reply ServerSession::checked(Reply reply) {
  auto response = reply.get();
  if (!response.isError()) return reply;
  const auto code = response.getError().getCode();
  if (code == ErrorCode::UNAUTHENTICATED) throw AccessError("the server refused the token: " + describe_error(response.getError()));
  if (code == ErrorCode::FORBIDDEN) {
    throw AccessError(role_needed_ + ": " + describe_error(response.getError()));
  }
  return reply;
}

std::vector<domain::Customer> ServerSession::list_all(bool deleted) {
  std::vector<domain::Customer> customers;
  std::uint64_t after = 0;
  for (;;) {
    auto reply = call([&](protocol::Request::Builder r) {
      auto list = r.initList();
      list.setDeleted(deleted);
      list.setAfter(after);
      list.setLimit(kPageSize);
    });
    if (reply.get().isError()) throw std::runtime_error("list: " + describe_error(reply.get().getError()));
    auto page = reply.get().getPage();
    for (auto c : page.getCustomers()) customers.push_back(customer_from(c));
    if (page.getNext() == 0) return customers;
    after = page.getNext();
  }
}

std::uint64_t ServerSession::next_seq() {
  auto reply = call([](protocol::Request::Builder r) { r.setStats(); });
  if (reply.get().isError()) throw std::runtime_error("stats: " + describe_error(reply.get().getError()));
  return reply.get().getStats().getNextSeq();
}

domain::Customer customer_from(protocol::Customer::Reader c) {
  domain::Customer customer;
  customer.id = c.getId();
  customer.number = c.getNumber();
  customer.status = c.getStatus() == protocol::Status::ACTIVE ? domain::CustomerStatus::kActive : domain::CustomerStatus::kDeleted;
  customer.revision = c.getRevision();
  auto f = c.getFields();
  customer.fields = {text(f.getName()),  text(f.getCompany()), text(f.getEmail()),
                     text(f.getPhone()), text(f.getAddress()), text(f.getNotes())};
  return customer;
}

eventstore::Envelope envelope_from(protocol::Entry::Reader e) {
  eventstore::Envelope envelope;
  envelope.seq = e.getSeq();
  envelope.at_us = e.getAt();
  envelope.actor = text(e.getActor());
  envelope.request = bytes(e.getRequest());
  envelope.customer = e.getCustomer();
  envelope.kind = e.getKind();
  envelope.payload = bytes(e.getPayload());
  if (!eventstore::digest_from(bytes(e.getDigest()), envelope.digest) || !eventstore::digest_from(bytes(e.getChain()), envelope.chain)) {
    throw std::runtime_error("the server sent entry " + std::to_string(envelope.seq) + " with a digest or chain that is not 32 bytes");
  }
  envelope.redacted_by = e.getRedactedBy();
  envelope.number = e.getNumber();
  return envelope;
}

}  // namespace ledger::tools
