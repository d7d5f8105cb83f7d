// Importing customers from CSV (header number,name,company,email,phone,address,notes): every
// row is checked before anything is written, and each command carries a request key made of
// the file's SHA-256 and the row's line, so that importing the same file again creates nothing
// twice. Planning only reads; running submits to the command service.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/commands.h"
#include "eventstore/crypto.h"
#include "eventstore/reader.h"
#include "server/command_service.h"

namespace ledger::tools {

struct ImportRow {
  std::size_t line = 0;
  domain::CreateCustomer command;
  std::string request_key;
};

struct RowProblem {
  std::size_t line = 0;  // 0: the file as a whole
  std::string reason;
};

struct ImportPlan {
  std::vector<ImportRow> rows;          // the good rows, in file order
  std::vector<RowProblem> problems;     // every bad row, in file order
};

// The request key of the row starting at `line` of a file whose SHA-256 is `file_sha256`:
// "import:" ‖ the first 40 hex digits of the hash ‖ ":" ‖ line. At most 64 bytes, the
// protocol's limit, for any line below 10^16; the same through --data and --server.
std::string import_request_key(const eventstore::Digest& file_sha256, std::size_t line);

// Parses and checks `csv`: the header, the field count, the number (empty or 1 to 12 digits,
// not twice in the file, not held by a customer unless this very row created it before), and
// the fields (domain::validate_fields). `actor` scopes the request keys.
ImportPlan plan_import(const eventstore::Reader& reader, std::string_view csv, std::string_view actor);
// The same checks without a ledger to read: a number held by a customer is found by the ledger
// when the row is submitted (for ledger-admin --server).
ImportPlan plan_import(std::string_view csv);

struct ImportResult {
  std::uint64_t created = 0;
  std::uint64_t already_imported = 0;  // answered from an earlier run of the same file
  std::vector<RowProblem> refused;     // refusals and failures, by line
};

// Submits `rows` (a plan's, which they are moved from) in file order without waiting for their answers, at most `window` (at
// least 1) unanswered at a time, so that the writer always has a full group queued; returns once
// every row is answered, `refused` in line order. `progress` runs on the calling thread with the
// rows answered so far, whenever that count has grown.
ImportResult run_import(server::CommandService& service, std::vector<ImportRow> rows, const std::string& actor,
                        std::size_t window, const std::function<void(std::uint64_t)>& progress);

}  // namespace ledger::tools
