// Fuzzes the CSV importer of ledger-admin: parse_csv and plan_import's row checks, against a
// data directory that holds an active customer (number 5) and a deleted one (number 6).
//
// Input: the CSV file. Properties: no crash; a parse that succeeds keeps every byte that is not
// a separator, quote or line break, and its records survive being written out fully quoted and
// parsed again; every planned row passes the domain's field and number checks, with no number
// twice and no request key twice.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/validation.h"
#include "eventstore/database.h"
#include "eventstore/reader.h"
#include "fuzz/fuzz_check.h"
#include "server/command_service.h"
#include "server/open_ledger.h"
#include "support/temp_dir.h"
#include "tools/admin/csv.h"
#include "tools/admin/customer_import.h"

namespace {

using namespace ledger;

class Ledger {
 public:
  Ledger() : database_(eventstore::Database::open(dir_.path() / "data", {})) {
    auto opened = server::open_ledger(*database_);
    auto& service = *opened;
    domain::CustomerFields fields;
    fields.name = "Ada Lovelace";
    FUZZ_CHECK(std::holds_alternative<server::Accepted>(service.execute(domain::CreateCustomer{fields, 5})));
    fields.name = "Charles Babbage";
    FUZZ_CHECK(std::holds_alternative<server::Accepted>(service.execute(domain::CreateCustomer{fields, 6})));
    FUZZ_CHECK(std::holds_alternative<server::Accepted>(service.execute(domain::DeleteCustomers{{6}})));
  }
  ~Ledger() { database_.reset(); }
  eventstore::Database& database() { return *database_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<eventstore::Database> database_;
};

// libFuzzer calls a plain function per input; the directory is only read, so one serves all.
Ledger& ledger() {
  static Ledger ledger;
  return ledger;
}

bool structural(char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; }

std::size_t content_bytes(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return !structural(c); }));
}

std::string quoted(const std::vector<tools::CsvRecord>& records) {
  std::string out;
  for (const auto& record : records) {
    for (std::size_t f = 0; f < record.fields.size(); ++f) {
      if (f > 0) out += ',';
      out += '"';
      for (char c : record.fields[f]) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      out += '"';
    }
    out += '\n';
  }
  return out;
}

void check_parse(std::string_view text) {
  const auto parsed = tools::parse_csv(text);
  if (!parsed.error.empty()) {
    FUZZ_CHECK(parsed.error.rfind("line ", 0) == 0);
    return;
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t kept = 0;
  std::size_t previous_line = 0;
  for (const auto& record : parsed.records) {
    FUZZ_CHECK(!record.fields.empty());
    FUZZ_CHECK(record.line > previous_line);
    previous_line = record.line;
    for (const auto& field : record.fields) kept += content_bytes(field);
  }
  FUZZ_CHECK(kept == content_bytes(text));
  FUZZ_CHECK(previous_line <= static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);

  const auto again = tools::parse_csv(quoted(parsed.records));
  FUZZ_CHECK(again.error.empty());
  FUZZ_CHECK(again.records.size() == parsed.records.size());
  for (std::size_t r = 0; r < parsed.records.size(); ++r) {
    FUZZ_CHECK(again.records[r].fields == parsed.records[r].fields);
  }
}

void check_plan(std::string_view text) {
  eventstore::DatabaseReader reader(ledger().database());
  const auto plan = tools::plan_import(reader, text, "fuzz");
  std::set<domain::CustomerNumber> numbers;
  std::set<std::string> keys;
  for (const auto& row : plan.rows) {
    FUZZ_CHECK(row.line >= 2);
    FUZZ_CHECK(!domain::validate_fields(row.command.fields));
    FUZZ_CHECK(keys.insert(row.request_key).second);
    if (row.command.number) {
      FUZZ_CHECK(!domain::validate_number(*row.command.number));
      FUZZ_CHECK(numbers.insert(*row.command.number).second);
      // Held by a customer and not imported by this file before.
      FUZZ_CHECK(*row.command.number != 5 && *row.command.number != 6);
    }
  }
  for (const auto& problem : plan.problems) FUZZ_CHECK(!problem.reason.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_parse(text);
  check_plan(text);
  return 0;
}
