#include "tools/common/history_format.h"

#include <fmt/format.h>

#include "tools/common/json_format.h"

namespace ledger::tools {
namespace {

// Line breaks in addresses and notes are shown as \n so that each change stays on one line.
std::string one_line(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

}  // namespace

boost::json::object delta_json(const FieldDelta& delta) {
  return boost::json::object{{"field", delta.field}, {"old", delta.before}, {"new", delta.after}};
}

boost::json::array history_json(const std::vector<HistoryStep>& steps) {
  boost::json::array out;
  for (const auto& step : steps) {
    boost::json::object o;
    o["seq"] = step.seq;
    o["at"] = step.at_us;
    o["time"] = format_time(step.at_us);
    o["actor"] = step.actor;
    o["kind"] = step.kind;
    o["stub"] = step.redacted_by != 0;
    o["redacted_by"] = step.redacted_by;
    boost::json::array changes;
    for (const auto& c : step.changes) changes.push_back(delta_json(c));
    o["changes"] = std::move(changes);
    out.push_back(std::move(o));
  }
  return out;
}

std::string history_text(const std::vector<HistoryStep>& steps) {
  std::string out;
  for (const auto& step : steps) {
    out += fmt::format("seq {}  {}  {}  {}\n", step.seq, format_time(step.at_us), step.actor, step.kind);
    if (step.redacted_by != 0) out += fmt::format("    (erased by purge {})\n", step.redacted_by);
    for (const auto& c : step.changes) {
      out += fmt::format("    {}: \"{}\" → \"{}\"\n", c.field, one_line(c.before), one_line(c.after));
    }
  }
  return out;
}

}  // namespace ledger::tools
