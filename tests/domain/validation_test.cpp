#include "domain/validation.h"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace ledger::domain;

namespace {

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// Asserts a kInvalidField refusal naming `field` whose message holds `reason` and not the value.
void require_refused(Field field, const std::string& value, std::string_view reason) {
  const std::string name(field_name(field));
  CAPTURE(name, value);
  auto refusal = validate_field(field, value);
  REQUIRE(refusal);
  CHECK(refusal->code == RefusalCode::kInvalidField);
  CHECK(refusal->field == name);
  CHECK(refusal->message.rfind(name + ": ", 0) == 0);
  CHECK_THAT(refusal->message, Catch::Contains(std::string(reason)));
  // Short values ("a", " ") occur in any sentence; longer ones must never be echoed.
  if (value.size() >= 4) CHECK_THAT(refusal->message, !Catch::Contains(value));
}

void require_accepted(Field field, const std::string& value) {
  CAPTURE(field_name(field), value);
  auto refusal = validate_field(field, value);
  CHECK_FALSE(refusal);
  if (refusal) FAIL(refusal->message);
}

}  // namespace

TEST_CASE("field names are spelled as users and the protocol spell them", "[validation]") {
  const std::vector<std::pair<Field, std::string_view>> names = {
      {Field::kName, "name"},   {Field::kCompany, "company"}, {Field::kEmail, "email"},
      {Field::kPhone, "phone"}, {Field::kAddress, "address"}, {Field::kNotes, "notes"}};
  for (const auto& [field, name] : names) {
    CHECK(field_name(field) == name);
    CHECK(parse_field(name) == field);
  }
  CHECK_FALSE(parse_field("Name"));
  CHECK_FALSE(parse_field(""));
  CHECK_FALSE(parse_field("number"));
  CHECK(status_name(CustomerStatus::kActive) == "active");
  CHECK(status_name(CustomerStatus::kDeleted) == "deleted");

  CustomerFields fields;
  for (Field field : kAllFields) fields.get(field) = std::string(field_name(field)) + "!";
  CHECK(fields.name == "name!");
  CHECK(fields.company == "company!");
  CHECK(fields.email == "email!");
  CHECK(fields.phone == "phone!");
  CHECK(fields.address == "address!");
  CHECK(fields.notes == "notes!");
}

TEST_CASE("a complete, ordinary customer is accepted", "[validation]") {
  CustomerFields fields{"Zoë Ångström-Ōtani",
                        "Ørsted & Søn ApS",
                        "zoe.otani@example.co.uk",
                        "+45 (33) 12-34.56",
                        "Strandvejen 12\n2900 Hellerup\nDanmark",
                        "Prefers e-mail.\nVIP since 2019 ★"};
  CHECK_FALSE(validate_fields(fields));
  CHECK_FALSE(validate_fields(CustomerFields{"A", "", "", "", "", ""}));
}

TEST_CASE("name: 1-200 characters, counted in code points", "[validation]") {
  require_refused(Field::kName, "", "required, 1-200 characters");
  require_accepted(Field::kName, "A");
  require_accepted(Field::kName, repeat("a", 200));
  require_refused(Field::kName, repeat("a", 201), "required, 1-200 characters (got 201)");
  // Two, three and four bytes per character: the limit is characters, not bytes.
  require_accepted(Field::kName, repeat("é", 200));
  require_refused(Field::kName, repeat("é", 201), "(got 201)");
  require_accepted(Field::kName, repeat("€", 200));
  require_accepted(Field::kName, repeat("😀", 200));
  require_refused(Field::kName, repeat("😀", 201), "(got 201)");
}

TEST_CASE("name: not only spaces", "[validation]") {
  for (std::string blank : {" ", "    ", "\u00A0", "\u3000", "\u2003 \u2009", "\u200B", "\uFEFF"}) {
    require_refused(Field::kName, blank, "not only spaces");
  }
  require_accepted(Field::kName, " a ");
  require_accepted(Field::kName, "\u3000李\u3000");
  // The other fields may be blank: nothing requires them.
  require_accepted(Field::kCompany, "   ");
  require_accepted(Field::kNotes, " \n ");
}

TEST_CASE("byte limits: exactly at the limit passes, one over is refused", "[validation]") {
  require_accepted(Field::kCompany, repeat("c", 1000));
  require_refused(Field::kCompany, repeat("c", 1001), "company: at most 1000 bytes (got 1001)");
  require_accepted(Field::kAddress, repeat("a", 1000));
  require_refused(Field::kAddress, repeat("a", 1001), "address: at most 1000 bytes (got 1001)");
  require_accepted(Field::kEmail, "a@" + repeat("b", 998));
  require_refused(Field::kEmail, "a@" + repeat("b", 999), "email: at most 1000 bytes (got 1001)");
  require_accepted(Field::kPhone, repeat("5", 1000));
  require_refused(Field::kPhone, repeat("5", 1001), "phone: at most 1000 bytes (got 1001)");
  require_accepted(Field::kNotes, repeat("n", 4000));
  require_refused(Field::kNotes, repeat("n", 4001), "notes: at most 4000 bytes (got 4001)");
  require_refused(Field::kNotes, repeat("n", 4123), "notes: at most 4000 bytes (got 4123)");
  // Bytes, not characters: 500 two-byte characters fill a 1,000-byte field exactly.
  require_accepted(Field::kCompany, repeat("é", 500));
  require_refused(Field::kCompany, repeat("é", 500) + "x", "(got 1001)");
}

TEST_CASE("every field must be well-formed UTF-8", "[validation]") {
  const std::vector<std::pair<const char*, std::string>> malformed = {
      {"stray continuation byte", "\x80"},
      {"overlong '/' in two bytes", "\xC0\xAF"},
      {"overlong in two bytes, highest", "\xC1\xBF"},
      {"overlong in three bytes", "\xE0\x80\xAF"},
      {"overlong in three bytes, highest", "\xE0\x9F\xBF"},
      {"overlong in four bytes", "\xF0\x80\x80\xAF"},
      {"overlong in four bytes, highest", "\xF0\x8F\xBF\xBF"},
      {"surrogate U+D800", "\xED\xA0\x80"},
      {"surrogate U+DFFF", "\xED\xBF\xBF"},
      {"above U+10FFFF", "\xF4\x90\x80\x80"},
      {"lead byte F5", "\xF5\x80\x80\x80"},
      {"byte FF", "\xFF"},
      {"truncated two-byte", "\xC3"},
      {"truncated three-byte", "\xE2\x82"},
      {"truncated four-byte", "\xF0\x9F\x98"},
      {"bad continuation", "\xC3\x28"},
      {"lead byte where continuation is due", "\xE2\xC2\xA0"},
  };
  for (Field field : kAllFields) {
    for (const auto& [what, bytes] : malformed) {
      CAPTURE(what);
      // A digit and an '@' keep email and phone from failing on their own rules instead.
      require_refused(field, "1@" + bytes, "must be valid UTF-8");
      require_refused(field, bytes + "1@", "must be valid UTF-8");
    }
  }
  // The edges that are valid.
  for (std::string edge : {"\xC2\xA0", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                           "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    require_accepted(Field::kName, "a" + edge);
    require_accepted(Field::kNotes, edge);
  }
}

TEST_CASE("no control characters, and newlines only in address and notes", "[validation]") {
  const std::vector<std::pair<const char*, std::string>> controls = {
      {"NUL", std::string(1, '\0')},
      {"SOH", "\x01"},
      {"US", "\x1F"},
      {"ESC", "\x1B"},
      {"DEL", "\x7F"},
      {"U+0080", "\xC2\x80"},
      {"NEL U+0085", "\xC2\x85"},
      {"U+009F", "\xC2\x9F"},
      {"tab", "\t"},
      {"carriage return", "\r"},
      {"CRLF", "\r\n"},
  };
  for (Field field : kAllFields) {
    for (const auto& [what, control] : controls) {
      CAPTURE(what);
      require_refused(field, "1@a" + control + "b", "no control characters");
    }
  }
  // The refusal says plainly that tabs and carriage returns are refused, newline or not.
  for (Field field : kAllFields) {
    for (std::string control : {"\t", "\r"}) {
      auto refusal = validate_field(field, "x" + control);
      REQUIRE(refusal);
      CHECK_THAT(refusal->message, Catch::Contains("tabs") && Catch::Contains("carriage returns"));
    }
  }
  for (Field field : {Field::kName, Field::kCompany, Field::kEmail, Field::kPhone}) {
    require_refused(field, "12@a\nb", "line breaks");
  }
  require_accepted(Field::kAddress, "Main Street 1\n12345 Town\n");
  require_accepted(Field::kNotes, "\nline one\n\nline three\n");
  auto refusal = validate_field(Field::kAddress, "Main Street 1\r\n12345 Town");
  REQUIRE(refusal);
  CHECK_THAT(refusal->message, Catch::Contains("line breaks are allowed"));
}

TEST_CASE("email: local@domain when not empty", "[validation]") {
  for (std::string ok : {"", "a@b", "first.last+tag@example.co.uk", "x@localhost", "ü@bücher.de"}) {
    require_accepted(Field::kEmail, ok);
  }
  const std::vector<std::pair<std::string, const char*>> bad = {
      {"plain.address", "exactly one '@'"},
      {"two@at@signs.example", "exactly one '@'"},
      {"@example.com", "nothing before the '@'"},
      {"someone@", "nothing after the '@'"},
      {"some one@example.com", "no spaces"},
      {"someone@exa mple.com", "no spaces"},
      {"someone@example.com ", "no spaces"},
      {"some\u00A0one@example.com", "no spaces"},
      {"someone@.example.com", "must not start or end with '.'"},
      {"someone@example.com.", "must not start or end with '.'"},
  };
  for (const auto& [value, reason] : bad) {
    require_refused(Field::kEmail, value, "email: must look like local@domain");
    require_refused(Field::kEmail, value, reason);
  }
}

TEST_CASE("phone: digits and + ( ) - . space, at least one digit", "[validation]") {
  for (std::string ok : {"", "5", "+1 (555) 123-4567", "555.123.4567", "0045 33 12 34 56"}) {
    require_accepted(Field::kPhone, ok);
  }
  require_refused(Field::kPhone, "+() -.", "at least one digit");
  require_refused(Field::kPhone, "   ", "at least one digit");
  require_refused(Field::kPhone, "555-CALL-NOW", "only digits");
  require_refused(Field::kPhone, "555 1234 ext 9", "only digits");
  require_refused(Field::kPhone, "555/1234", "only digits");
  require_refused(Field::kPhone, "\uFF11\uFF12\uFF13", "only digits");  // full-width digits
}

TEST_CASE("refusals name the field and never hold its value", "[validation]") {
  const std::string secret = "Zx9-secret-value";
  CustomerFields base{"Name", "", "", "", "", ""};
  const std::vector<std::pair<Field, std::string>> cases = {
      {Field::kName, secret + repeat("x", 200)},
      {Field::kName, secret + "\t"},
      {Field::kCompany, secret + repeat("x", 1000)},
      {Field::kEmail, secret},
      {Field::kEmail, secret + "@a@b"},
      {Field::kPhone, secret},
      {Field::kAddress, secret + "\r"},
      {Field::kNotes, secret + "\xFF"},
  };
  for (const auto& [field, value] : cases) {
    CustomerFields fields = base;
    fields.get(field) = value;
    auto refusal = validate_fields(fields);
    REQUIRE(refusal);
    CHECK(refusal->field == field_name(field));
    CHECK_THAT(refusal->message, !Catch::Contains("secret"));
  }
}

TEST_CASE("validate_fields reports the first field in field order", "[validation]") {
  CustomerFields fields{"", "", "not-an-email", "call me", "", ""};
  auto refusal = validate_fields(fields);
  REQUIRE(refusal);
  CHECK(refusal->field == "name");
  fields.name = "Ann";
  refusal = validate_fields(fields);
  REQUIRE(refusal);
  CHECK(refusal->field == "email");
}

TEST_CASE("an unknown field is refused, not crashed on", "[validation]") {
  auto refusal = validate_field(static_cast<Field>(42), "x");
  REQUIRE(refusal);
  CHECK(refusal->code == RefusalCode::kInvalidField);
  CHECK(refusal->field == "field");
}

TEST_CASE("customer numbers: 1 to 999,999,999,999", "[validation]") {
  CHECK_FALSE(validate_number(1));
  CHECK_FALSE(validate_number(42));
  CHECK_FALSE(validate_number(kMaxCustomerNumber));
  for (CustomerNumber bad : {CustomerNumber{0}, kMaxCustomerNumber + 1, ~CustomerNumber{0}}) {
    auto refusal = validate_number(bad);
    REQUIRE(refusal);
    CHECK(refusal->code == RefusalCode::kInvalidField);
    CHECK(refusal->field == "number");
    CHECK_THAT(refusal->message, Catch::StartsWith("number: must be from 1 to 999999999999"));
  }
}
