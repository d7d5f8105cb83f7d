// A large CSV file for the import tests and the check that a ledger holds each of its rows'
// customers exactly once: rows with varied fields (quoted commas, doubled quotes, line breaks,
// UTF-8), every third with a number of its own. For tests only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "domain/customer.h"
#include "projections/queries.h"
#include "server/command_service.h"

namespace ledger::testing {

struct ImportedRow {
  std::optional<domain::CustomerNumber> number;
  domain::CustomerFields fields;
};

struct ImportFile {
  std::string csv;
  std::vector<ImportedRow> good;  // every row but the bad one, in file order
  std::size_t bad_line = 0;       // the line the bad row starts on; 0: none
};

inline std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// `count` rows; the numbered ones (every third) take `first_number` + their index. The row with
// index `bad`, when there is one, has no name: a bad row.
inline ImportFile many_customers(std::size_t count, domain::CustomerNumber first_number,
                                 std::size_t bad = std::numeric_limits<std::size_t>::max()) {
  ImportFile file;
  file.csv = "number,name,company,email,phone,address,notes\r\n";
  std::size_t line = 2;
  for (std::size_t i = 0; i < count; ++i) {
    const auto n = std::to_string(i);
    ImportedRow row;
    if (i % 3 == 0) row.number = first_number + i;
    auto& f = row.fields;
    f.name = i % 5 == 0 ? "Müller, Jürgen " + n : i % 5 == 1 ? "Zoë 東京 " + n : "Customer " + n;
    f.company = i % 4 == 0 ? "ACME \"Tools\" " + n : i % 4 == 1 ? "" : "Firma, GmbH";
    f.email = i % 3 != 2 ? "c" + n + "@example.org" : "";
    f.phone = i % 2 == 0 ? "+49 30 " + n : "";
    f.address = i % 3 == 1 ? "Hauptstr. " + n + "\n10115 Berlin" : "";
    f.notes = i % 7 == 0 ? "first line\nsecond, \"line\"" : "";
    if (i == bad) {
      f.name.clear();
      file.bad_line = line;
    }
    std::string record = row.number ? std::to_string(*row.number) : "";
    for (auto field : domain::kAllFields) record += "," + csv_field(f.get(field));
    file.csv += record + "\r\n";
    line += 1 + static_cast<std::size_t>(std::count(record.begin(), record.end(), '\n'));
    if (i != bad) file.good.push_back(std::move(row));
  }
  return file;
}

// Checks that `service` holds each of `rows`: a numbered row at its number, the others at
// `first_free`, `first_free` + 1, ... in file order (an import takes the lowest free numbers in
// the order of its rows). Returns the number after the last one taken so.
inline domain::CustomerNumber check_imported(server::CommandService& service, const std::vector<ImportedRow>& rows,
                                             domain::CustomerNumber first_free) {
  std::vector<std::string> wrong;
  auto next = first_free;
  for (const auto& row : rows) {
    const auto number = row.number.value_or(next);
    if (!row.number) ++next;
    const auto customer = service.customer(number);
    if (!customer || customer->fields != row.fields || customer->status != domain::CustomerStatus::kActive) {
      wrong.push_back(std::to_string(number) + (customer ? ": " + customer->fields.name : ": missing") +
                      ", expected " + row.fields.name);
    }
  }
  INFO(wrong.size() << " rows differ; the first: " << (wrong.empty() ? "" : wrong.front()));
  CHECK(wrong.empty());
  return next;
}

// Every active customer, read page by page.
inline std::size_t count_active(server::CommandService& service) {
  std::size_t count = 0;
  domain::CustomerNumber after = 0;
  for (;;) {
    const auto page = service.list(projections::CustomerList::kActive, after, projections::kMaxPageSize);
    count += page.customers.size();
    if (!page.next) return count;
    after = *page.next;
  }
}

}  // namespace ledger::testing
