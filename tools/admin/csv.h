// An RFC 4180 CSV reader: fields separated by commas, records by CRLF or LF; a field in double
// quotes may hold commas, line breaks and doubled quotes (""). Bytes are passed through as
// they are (UTF-8 stays UTF-8); a leading UTF-8 byte order mark is skipped. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ledger::tools {

struct CsvRecord {
  std::size_t line = 0;  // the line of the file where the record starts, from 1
  std::vector<std::string> fields;
};

struct CsvParse {
  std::vector<CsvRecord> records;
  // Empty when the whole text parsed; else what is wrong, naming the line.
  std::string error;
};

// Empty lines are skipped.
CsvParse parse_csv(std::string_view text);

}  // namespace ledger::tools
