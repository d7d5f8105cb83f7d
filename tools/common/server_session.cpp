#include "tools/common/server_session.h"

#include <capnp/schema.h>
#include <fmt/format.h>

#include "eventstore/crypto.h"

namespace ledger::tools {
namespace {

using protocol::ErrorCode;

// The server's list pages hold at most this many customers.
constexpr std::uint32_t kPageSize = 1000;

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::string bytes(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

// Runs `io` on the session, a broken connection becoming AccessError.
template <typename Io>
auto guarded(Io io) {
  try {
    return io();
  } catch (const client::ConnectionError& error) {
    throw AccessError(error.what());
  }
}

}  // namespace

std::string describe_error(protocol::Error::Reader error) { return client::Refusal::from(error).describe(); }

ServerSession::ServerSession(const ClientOptions& server, const std::string& token, std::string role_needed)
    : role_needed_(std::move(role_needed)) {
  client::Options options;
  options.connect = server;
  options.token = token;
  try {
    client_ = std::make_unique<client::Client>(options);
  } catch (const client::CannotConnect& error) {
    throw AccessError(error.what());
  } catch (const client::ConnectionError& error) {
    // Connected, then closed before the hello's answer: a TLS-only server closes a plain
    // connection without a word.
    throw AccessError(std::string(error.what()) + (server.tls ? "" : "; if it speaks TLS, pass --tls or --tls-ca CERT"));
  }
  if (const auto& refused = client_->refused()) {
    const auto error = refused->get().getError();
    if (error.getCode() == ErrorCode::UNAUTHENTICATED) throw AccessError("the server refused the token: " + describe_error(error));
    if (error.getCode() == ErrorCode::FORBIDDEN) throw AccessError(role_needed_ + ": " + describe_error(error));
    throw AccessError("the server refused the hello: " + describe_error(error));
  }
}

ServerSession::ServerSession(ServerSession&&) noexcept = default;
ServerSession::~ServerSession() = default;

Reply ServerSession::call(const client::RequestFill& fill) {
  return checked(guarded([&] { return client_->call(fill); }));
}

std::uint64_t ServerSession::send(const client::RequestFill& fill) {
  return guarded([&] { return client_->send(fill); });
}

Reply ServerSession::receive() {
  return checked(guarded([&] { return client_->receive(); }));
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
