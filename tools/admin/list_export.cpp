#include "tools/admin/list_export.h"

#include <string>

#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void write_list_header(std::ostream& out, std::string_view format) {
  if (format == "csv") out << "number,name,company,email,phone,address,notes\r\n";
}

void write_list_row(std::ostream& out, const domain::Customer& c, std::string_view format) {
  if (format != "csv") {
    out << to_line(customer_json(c)) << "\n";
    return;
  }
  out << c.number;
  for (auto field : domain::kAllFields) out << "," << csv_field(c.fields.get(field));
  out << "\r\n";
}

}  // namespace ledger::tools
