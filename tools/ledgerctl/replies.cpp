#include "tools/ledgerctl/replies.h"

#include <iostream>

#include <capnp/schema.h>
#include <fmt/format.h>

namespace ledger::ledgerctl {

namespace json = boost::json;
using protocol::ErrorCode;

namespace {

std::string error_code_name(ErrorCode code) {
  auto enumerants = capnp::Schema::from<ErrorCode>().getEnumerants();
  for (auto e : enumerants) {
    if (e.getOrdinal() == static_cast<std::uint16_t>(code)) return e.getProto().getName();
  }
  return "unknown";
}

}  // namespace

int report_error(const Globals& g, protocol::Error::Reader error) {
  const auto code = error.getCode();
  std::string line = error.getMessage().cStr();
  if (error.getField().size() > 0) line += fmt::format(" (field: {})", error.getField().cStr());
  for (auto problem : error.getNumbers()) {
    line += fmt::format("; {}: {}", problem.getNumber(), error_code_name(problem.getCode()));
  }
  std::cerr << "ledgerctl: " << line << "\n";
  if (g.json) {
    json::object out{{"code", error_code_name(code)}, {"message", error.getMessage().cStr()}};
    if (error.getField().size() > 0) out["field"] = error.getField().cStr();
    json::array numbers;
    for (auto problem : error.getNumbers()) {
      numbers.push_back(json::object{{"number", problem.getNumber()}, {"code", error_code_name(problem.getCode())}});
    }
    if (!numbers.empty()) out["numbers"] = std::move(numbers);
    std::cout << json::serialize(json::object{{"error", std::move(out)}}) << "\n";
  }
  switch (code) {
    case ErrorCode::FORBIDDEN:
    case ErrorCode::UNAUTHENTICATED:
      return kNoAccess;
    default:
      return kRefused;
  }
}

int show_written(const Globals& g, client::Reply& reply, const char* verb) {
  auto r = reply.get();
  if (r.isError()) return report_error(g, r.getError());
  auto w = r.getWritten();
  if (g.json) {
    json::object out{{"number", w.getNumber()}, {"id", w.getId()}, {"revision", w.getRevision()}};
    if (w.getReplayed()) out["replayed"] = true;
    print_json(out);
  } else {
    std::cout << fmt::format("{} customer {} (revision {}){}\n", verb, w.getNumber(), w.getRevision(),
                             w.getReplayed() ? kReplayedNote : "");
  }
  return kDone;
}

json::object customer_object(protocol::Customer::Reader c) {
  auto f = c.getFields();
  return json::object{{"number", c.getNumber()},
                      {"id", c.getId()},
                      {"status", c.getStatus() == protocol::Status::ACTIVE ? "active" : "deleted"},
                      {"revision", c.getRevision()},
                      {"name", f.getName().cStr()},
                      {"company", f.getCompany().cStr()},
                      {"email", f.getEmail().cStr()},
                      {"phone", f.getPhone().cStr()},
                      {"address", f.getAddress().cStr()},
                      {"notes", f.getNotes().cStr()}};
}

void print_json(const json::value& value) { std::cout << json::serialize(value) << "\n"; }

std::string join_numbers(capnp::List<std::uint64_t>::Reader numbers) {
  std::string out;
  for (auto n : numbers) out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out;
}

std::string join_numbers(const std::vector<std::uint64_t>& numbers) {
  std::string out;
  for (auto n : numbers) out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out;
}

}  // namespace ledger::ledgerctl
