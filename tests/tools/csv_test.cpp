// The CSV reader of ledger-admin import: record and line boundaries around quotes and CRs.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tools/admin/csv.h"

using ledger::tools::parse_csv;

TEST_CASE("CRLF after a closing quote ends the record", "[csv]") {
  auto parsed = parse_csv("\"Ada\",\"x\"\r\n\"Bo\",y\r\n");
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.records.size() == 2);
  CHECK(parsed.records[0].fields == std::vector<std::string>{"Ada", "x"});
  CHECK(parsed.records[1].fields == std::vector<std::string>{"Bo", "y"});
  CHECK(parsed.records[1].line == 2);
}

TEST_CASE("a lone CR in an unquoted field is text", "[csv]") {
  auto parsed = parse_csv("a\rb,c\n");
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.records.size() == 1);
  CHECK(parsed.records[0].fields == std::vector<std::string>{"a\rb", "c"});
}

// Found by fuzzing: the CR was taken for a line break and the byte after it was dropped, so
// "7" vanished from the row and the next record claimed a line that does not exist.
TEST_CASE("a lone CR after a closing quote is refused, not taken for a line break", "[csv]") {
  auto parsed = parse_csv(",\"Ada\"\r7,Bo\n");
  CHECK(parsed.error == "line 1: text after a closing quote");

  auto fuzzed = parse_csv(",\"\"\r\r,,~,,");
  CHECK(fuzzed.error == "line 1: text after a closing quote");
}
