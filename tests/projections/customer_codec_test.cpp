// A reused CustomerEncoder writes the bytes encode_customer writes, customer after customer:
// the rebuild's rows and verify's comparison depend on it byte for byte.
#include "projections/customer_codec.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace ledger;

TEST_CASE("a reused customer encoder gives encode_customer's bytes", "[projections]") {
  std::vector<domain::Customer> customers = {
      {1, 1, domain::CustomerStatus::kActive, 1, {"Ann", "Acme", "ann@acme.example", "+44 20 7946 0000", "1 High St", ""}},
      // Larger than the encoder's segment: it grows, and what was used is zeroed afterwards.
      {2, 7, domain::CustomerStatus::kDeleted, 4, {"Bo", "", "", "", std::string(3000, 'a'), std::string(5000, 'n')}},
      {3, 2, domain::CustomerStatus::kActive, 2, {"", "", "", "", "", ""}},
      {4, 999'999'999'999ULL, domain::CustomerStatus::kActive, 9, {"Zoë 😀", "C", "e", "p", "a", "n"}},
  };
  projections::CustomerEncoder encoder;
  for (int round = 0; round < 2; ++round) {
    for (const auto& customer : customers) {
      CAPTURE(customer.id);
      const auto expected = projections::encode_customer(customer);
      CHECK(std::string(encoder.encode(customer)) == expected);
      CHECK(projections::decode_customer(expected, customer.id) == customer);
    }
  }
}
