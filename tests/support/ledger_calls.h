// Requests the reliability tests send to a real ledgerd, built on the ledger's own client
// (ledger/client/connection.h): hello, create with a request key, and the whole active list.
// Throw client::ConnectionError when the server goes away; callers that kill it expect that.
// For tests only; not thread-safe (one client per thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <capnp/message.h>

#include "ledger/client/connection.h"

namespace ledger::testing {

// A Request message with `id`; `fill` sets the union.
template <typename Fill>
std::unique_ptr<capnp::MallocMessageBuilder> request_message(std::uint64_t id, Fill fill) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto r = message->initRoot<protocol::Request>();
  r.setId(id);
  fill(r);
  return message;
}

// Says hello with an empty token (a ledgerd without --tokens accepts it); throws when refused.
inline void hello(client::Connection& client) {
  auto message = request_message(1, [](auto r) { r.initHello().setToken(""); });
  auto reply = client.call(*message);
  if (!reply.get().isWelcome()) throw std::runtime_error("hello refused");
}

// A create of a customer called `name`, idempotent under `key`.
inline std::unique_ptr<capnp::MallocMessageBuilder> create_message(std::uint64_t id, const std::string& key,
                                                                   const std::string& name,
                                                                   const std::string& notes = {}) {
  return request_message(id, [&](protocol::Request::Builder r) {
    r.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
    auto fields = r.initCreate().initFields();
    fields.setName(name);
    if (!notes.empty()) fields.setNotes(notes);
  });
}

// Every active customer: name -> how many customers have it, with the number of the last seen.
struct ActiveList {
  std::map<std::string, int> count_by_name;
  std::map<std::string, std::uint64_t> number_by_name;
  std::size_t total = 0;
};

// Pages through the whole active list (1,000 a page, at most `max_pages`).
inline ActiveList list_active(client::Connection& client, std::size_t max_pages = 10'000) {
  ActiveList out;
  std::uint64_t after = 0;
  for (std::size_t page = 0; page < max_pages; ++page) {
    auto message = request_message(2, [&](auto r) {
      auto l = r.initList();
      l.setAfter(after);
      l.setLimit(1000);
    });
    auto reply = client.call(*message);
    if (!reply.get().isPage()) throw std::runtime_error("list refused");
    for (auto c : reply.get().getPage().getCustomers()) {
      const std::string name = c.getFields().getName().cStr();
      ++out.count_by_name[name];
      out.number_by_name[name] = c.getNumber();
      ++out.total;
    }
    after = reply.get().getPage().getNext();
    if (after == 0) return out;
  }
  throw std::runtime_error("the active list has more pages than expected");
}

}  // namespace ledger::testing
