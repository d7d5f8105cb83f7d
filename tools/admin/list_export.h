// The customer lists as `ledger-admin export` writes them: CSV with the import's header (RFC
// 4180 quoting, CRLF), or one JSON object per line. The same through --data and --server.
// Pure functions of their arguments; not thread-safe on a shared stream.
#pragma once

#include <ostream>
#include <string_view>

#include "domain/customer.h"

namespace ledger::tools {

// The CSV header line for format "csv"; nothing for "jsonl".
void write_list_header(std::ostream& out, std::string_view format);
// One customer in `format` ("csv" or "jsonl").
void write_list_row(std::ostream& out, const domain::Customer& customer, std::string_view format);

}  // namespace ledger::tools
