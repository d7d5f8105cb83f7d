// The table between the domain's fields and the protocol's, read both ways.
#include <set>
#include <string_view>

#include <capnp/schema.h>
#include <catch2/catch.hpp>

#include "server/wire_fields.h"

using namespace ledger;

TEST_CASE("every domain field goes to the wire and back to itself", "[wire]") {
  std::set<protocol::Field> sent;
  for (auto field : domain::kAllFields) {
    const auto wire = server::wire_field(field);
    sent.insert(wire);
    const auto back = server::domain_field(wire);
    REQUIRE(back);
    CHECK(*back == field);
  }
  CHECK(sent.size() == domain::kAllFields.size());
}

TEST_CASE("every protocol field comes to the domain, under the protocol's name", "[wire]") {
  for (auto enumerant : capnp::Schema::from<protocol::Field>().getEnumerants()) {
    const auto wire = static_cast<protocol::Field>(enumerant.getOrdinal());
    const auto field = server::domain_field(wire);
    REQUIRE(field);
    CHECK(server::wire_field(*field) == wire);
    CHECK(domain::field_name(*field) == std::string_view(enumerant.getProto().getName().cStr()));
  }
}

TEST_CASE("a protocol field this server does not know has no domain field", "[wire]") {
  CHECK_FALSE(server::domain_field(static_cast<protocol::Field>(99)));
}
