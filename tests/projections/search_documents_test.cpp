// SearchDocuments against a std::map doing the same: puts, status changes and erases in a
// random order, enough to grow the table, shift probe runs back and compact the texts.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "projections/search_documents.h"

using namespace ledger;
using projections::SearchDocuments;

TEST_CASE("search documents keep what was put last for every number, through growth and compaction",
          "[search]") {
  struct Expected {
    domain::CustomerId id;
    domain::CustomerStatus status;
    std::string text;
  };
  SearchDocuments docs;
  std::map<domain::CustomerNumber, Expected> expected;
  std::mt19937_64 random(7);
  auto check_all = [&] {
    REQUIRE(docs.size() == expected.size());
    std::size_t text_bytes = 0;
    for (const auto& [number, e] : expected) {
      SearchDocuments::Document doc;
      REQUIRE(docs.find(number, doc));
      CHECK(doc.id == e.id);
      CHECK(doc.status == e.status);
      CHECK(doc.text == e.text);
      text_bytes += e.text.size();
    }
    CHECK(docs.text_bytes() == text_bytes);
  };
  for (int round = 0; round < 200'000; ++round) {
    // Numbers clustered low (as handed out) with some far apart (given explicitly).
    const domain::CustomerNumber number =
        random() % 8 == 0 ? 1 + random() % 999'999'999'999 : 1 + random() % 20'000;
    switch (random() % 4) {
      case 0:
      case 1: {
        const auto text = std::string(random() % 80, static_cast<char>('a' + random() % 26));
        const auto status = random() % 2 ? domain::CustomerStatus::kActive : domain::CustomerStatus::kDeleted;
        docs.put(number, round + 1, status, text);
        expected[number] = {static_cast<domain::CustomerId>(round + 1), status, text};
        break;
      }
      case 2: {
        const bool present = expected.count(number) != 0;
        CHECK(docs.set_status(number, domain::CustomerStatus::kDeleted) == present);
        if (present) expected[number].status = domain::CustomerStatus::kDeleted;
        break;
      }
      default:
        docs.erase(number);
        expected.erase(number);
    }
    if (round % 50'000 == 0) check_all();
  }
  check_all();
  SearchDocuments::Document doc;
  CHECK_FALSE(docs.find(1'000'000'000'000, doc));
  // Everything erased: nothing is found and no text is kept.
  for (const auto& [number, e] : expected) docs.erase(number);
  CHECK(docs.size() == 0);
  CHECK(docs.text_bytes() == 0);
  CHECK_FALSE(docs.find(expected.begin()->first, doc));
}
