#include "tools/admin/csv.h"

namespace ledger::tools {

CsvParse parse_csv(std::string_view text) {
  CsvParse out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t line = 1;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    CsvRecord record;
    record.line = line;
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (i < n && text[i] == '"') {
        const std::size_t opened = line;
        ++i;
        for (;;) {
          if (i >= n) {
            out.error = "line " + std::to_string(opened) + ": a quoted field is not closed";
            return out;
          }
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field.push_back(text[i++]);
        }
        // Only a comma, LF or CRLF may follow. A lone CR is text, as in an unquoted field; taking
        // it for the end of the record swallowed the byte after it.
        if (i < n && text[i] != ',' && text[i] != '\n' && !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          out.error = "line " + std::to_string(line) + ": text after a closing quote";
          return out;
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          if (text[i] == '"') {
            out.error = "line " + std::to_string(line) + ": a quote inside an unquoted field";
            return out;
          }
          field.push_back(text[i++]);
        }
      }
      record.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
      } else {
        end_of_record = true;
        if (i < n) {
          i += text[i] == '\r' ? 2 : 1;
          ++line;
        }
      }
    }
    out.records.push_back(std::move(record));
  }
  return out;
}

}  // namespace ledger::tools
